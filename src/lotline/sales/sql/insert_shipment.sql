-- Purpose: write one checked shipment of a sales order in one statement, after its shipment
--   movement (sent before it in the same pipeline): the shipment, which order line each movement
--   line fills, a shipment_lot_links row per shipped lot row, and the derived lot_shipments row
--   per (lot, shipment) that traces read.
-- Parameters: id uuid, sales_order_id uuid, customer_id uuid, shipped_at timestamptz,
--   movement_id uuid, external_ref text, order_number text;
--   lines, one element per movement line: line_ids uuid[], order_lines uuid[], movement_lines uuid[],
--   quantities numeric[];
--   lot links, one per lot row: link_ids uuid[], link_rows uuid[];
--   per lot: lots uuid[], lot_quantities numeric[] (the quantity of the lot shipped, positive).
-- Output: none.
-- Invariants: over-shipping was refused before; audit triggers fire per row of the audited
--   tables (shipments, shipment lines, shipment lot links) as for any insert.
WITH shipment AS (
    INSERT INTO sales_order_shipments (id, sales_order_id, customer_id, shipped_at, inventory_movement_id, external_ref)
    VALUES (%(id)s::uuid, %(sales_order_id)s::uuid, %(customer_id)s::uuid, %(shipped_at)s::timestamptz,
            %(movement_id)s::uuid, %(external_ref)s::text)
    RETURNING id, sales_order_id, customer_id, shipped_at
), lines AS (
    INSERT INTO sales_order_shipment_lines
           (id, sales_order_shipment_id, sales_order_line_id, inventory_movement_line_id, quantity)
    SELECT k.id, s.id, k.order_line, k.movement_line, k.quantity
      FROM shipment s,
           unnest(%(line_ids)s::uuid[], %(order_lines)s::uuid[], %(movement_lines)s::uuid[],
                  %(quantities)s::numeric[]) AS k(id, order_line, movement_line, quantity)
), links AS (
    INSERT INTO shipment_lot_links (id, sales_order_shipment_id, inventory_movement_lot_id)
    SELECT k.id, s.id, k.row_id
      FROM shipment s, unnest(%(link_ids)s::uuid[], %(link_rows)s::uuid[]) AS k(id, row_id)
)
INSERT INTO lot_shipments
       (lot_id, sales_order_shipment_id, sales_order_id, sales_order_number, customer_id, shipped_at, quantity)
SELECT k.lot_id, s.id, s.sales_order_id, %(order_number)s::text, s.customer_id, s.shipped_at, k.quantity
  FROM shipment s, unnest(%(lots)s::uuid[], %(lot_quantities)s::numeric[]) AS k(lot_id, quantity)
