-- Purpose: write one checked movement with all its lines and lot rows in one statement (the
--   posting rules ran before; the caller made the ids so that nothing needs to come back).
-- Parameters: id uuid, movement_type text, occurred_at timestamptz, external_ref text,
--   vendor_id uuid, customer_id uuid, reverses_movement_id uuid, notes text;
--   lines, one element per line: line_ids uuid[], line_nos int[], items uuid[], locations uuid[],
--   uoms text[], quantities numeric[], unit_costs numeric[];
--   lot rows, one element per row: row_ids uuid[], row_lines uuid[], lots uuid[], row_uoms text[],
--   row_quantities numeric[].
-- Output: none.
-- Invariants: lines copy the movement's occurred_at and movement_type (set-based KPI passes read
--   them there); every row's triggers fire as for any insert (the audit trail per row, derived
--   tables per statement); foreign keys are checked at the end of the statement, when movement,
--   lines and lot rows all exist.
WITH movement AS (
    INSERT INTO inventory_movements
           (id, movement_type, status, occurred_at, external_ref, vendor_id, customer_id,
            reverses_movement_id, notes)
    VALUES (%(id)s::uuid, %(movement_type)s::text, 'posted', %(occurred_at)s::timestamptz,
            %(external_ref)s::text, %(vendor_id)s::uuid, %(customer_id)s::uuid,
            %(reverses_movement_id)s::uuid, %(notes)s::text)
    RETURNING id, occurred_at, movement_type
), lines AS (
    INSERT INTO inventory_movement_lines
           (id, movement_id, line_no, item_id, location_id, uom, quantity_delta, unit_cost,
            occurred_at, movement_type)
    SELECT k.id, m.id, k.line_no, k.item_id, k.location_id, k.uom, k.quantity, k.unit_cost,
           m.occurred_at, m.movement_type
      FROM movement m,
           unnest(%(line_ids)s::uuid[], %(line_nos)s::int[], %(items)s::uuid[], %(locations)s::uuid[],
                  %(uoms)s::text[], %(quantities)s::numeric[], %(unit_costs)s::numeric[])
           AS k(id, line_no, item_id, location_id, uom, quantity, unit_cost)
    RETURNING id
)
INSERT INTO inventory_movement_lots (id, inventory_movement_line_id, lot_id, uom, quantity_delta)
SELECT k.id, k.line_id, k.lot_id, k.uom, k.quantity
  FROM unnest(%(row_ids)s::uuid[], %(row_lines)s::uuid[], %(lots)s::uuid[], %(row_uoms)s::text[],
              %(row_quantities)s::numeric[]) AS k(id, line_id, lot_id, uom, quantity)
