-- Purpose: every movement of a bulk chunk with its lines and lot rows, in one statement (the
--   chunk's rules were checked before, bulk.py).
-- Parameters: movements, one element each: ids uuid[], types text[], times timestamptz[], refs text[],
--   vendors uuid[], customers uuid[], notes text[];
--   lines, one element each: line_ids uuid[], line_movements uuid[], line_nos int[], items uuid[],
--   locations uuid[], uoms text[], quantities numeric[];
--   lot rows, one element each: row_ids uuid[], row_lines uuid[], lots uuid[], row_uoms text[],
--   row_quantities numeric[].
-- Output: none.
-- Invariants: as insert_movement.sql of inventory (status 'posted', no unit cost, no reversal;
--   lines copy their movement's occurred_at and movement_type); the audit triggers record one entry
--   per row; the derived tables' statement triggers (lot_flow_totals, kpi_ledger_days) fold every
--   row in.
WITH movements AS (
    INSERT INTO inventory_movements
           (id, movement_type, status, occurred_at, external_ref, vendor_id, customer_id, reverses_movement_id, notes)
    SELECT k.id, k.type, 'posted', k.occurred_at, k.ref, k.vendor_id, k.customer_id, NULL, k.notes
      FROM unnest(%(ids)s::uuid[], %(types)s::text[], %(times)s::timestamptz[], %(refs)s::text[],
                  %(vendors)s::uuid[], %(customers)s::uuid[], %(notes)s::text[])
           AS k(id, type, occurred_at, ref, vendor_id, customer_id, notes)
    RETURNING id, occurred_at, movement_type
), lines AS (
    INSERT INTO inventory_movement_lines
           (id, movement_id, line_no, item_id, location_id, uom, quantity_delta, unit_cost, occurred_at, movement_type)
    SELECT k.id, m.id, k.line_no, k.item_id, k.location_id, k.uom, k.quantity, NULL, m.occurred_at, m.movement_type
      FROM unnest(%(line_ids)s::uuid[], %(line_movements)s::uuid[], %(line_nos)s::int[], %(items)s::uuid[],
                  %(locations)s::uuid[], %(uoms)s::text[], %(quantities)s::numeric[])
           AS k(id, movement_id, line_no, item_id, location_id, uom, quantity)
      JOIN movements m ON m.id = k.movement_id
    RETURNING id
)
INSERT INTO inventory_movement_lots (id, inventory_movement_line_id, lot_id, uom, quantity_delta)
SELECT k.id, k.line_id, k.lot_id, k.uom, k.quantity
  FROM unnest(%(row_ids)s::uuid[], %(row_lines)s::uuid[], %(lots)s::uuid[], %(row_uoms)s::text[],
              %(row_quantities)s::numeric[]) AS k(id, line_id, lot_id, uom, quantity)
