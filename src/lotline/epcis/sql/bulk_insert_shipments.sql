-- Purpose: the shipments of a bulk chunk in one statement, after their movements: the shipments,
--   which order line each movement line fills, a shipment_lot_links row per shipped lot row, and
--   the derived lot_shipments row per (lot, shipment) that traces read.
-- Parameters: shipments, one element each: ids uuid[], orders uuid[], customers uuid[], times
--   timestamptz[], movements uuid[], refs text[], numbers text[] (the orders' numbers);
--   lines: line_ids uuid[], line_shipments uuid[], order_lines uuid[], movement_lines uuid[],
--   line_quantities numeric[]; links: link_ids uuid[], link_shipments uuid[], link_rows uuid[];
--   per (lot, shipment): lot_ids uuid[], lot_shipments uuid[], lot_quantities numeric[] (positive).
-- Output: none.
-- Invariants: as insert_shipment.sql of sales; one audit entry per shipment, line and link.
WITH heads AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(orders)s::uuid[], %(customers)s::uuid[], %(times)s::timestamptz[],
                         %(movements)s::uuid[], %(refs)s::text[], %(numbers)s::text[])
                  AS k(id, order_id, customer_id, shipped_at, movement_id, ref, number)
), shipments AS (
    INSERT INTO sales_order_shipments (id, sales_order_id, customer_id, shipped_at, inventory_movement_id, external_ref)
    SELECT id, order_id, customer_id, shipped_at, movement_id, ref FROM heads
    RETURNING id
), lines AS (
    INSERT INTO sales_order_shipment_lines
           (id, sales_order_shipment_id, sales_order_line_id, inventory_movement_line_id, quantity)
    SELECT k.id, s.id, k.order_line, k.movement_line, k.quantity
      FROM unnest(%(line_ids)s::uuid[], %(line_shipments)s::uuid[], %(order_lines)s::uuid[],
                  %(movement_lines)s::uuid[], %(line_quantities)s::numeric[])
           AS k(id, shipment_id, order_line, movement_line, quantity)
      JOIN shipments s ON s.id = k.shipment_id
), links AS (
    INSERT INTO shipment_lot_links (id, sales_order_shipment_id, inventory_movement_lot_id)
    SELECT k.id, s.id, k.row_id
      FROM unnest(%(link_ids)s::uuid[], %(link_shipments)s::uuid[], %(link_rows)s::uuid[]) AS k(id, shipment_id, row_id)
      JOIN shipments s ON s.id = k.shipment_id
)
INSERT INTO lot_shipments
       (lot_id, sales_order_shipment_id, sales_order_id, sales_order_number, customer_id, shipped_at, quantity)
SELECT k.lot_id, h.id, h.order_id, h.number, h.customer_id, h.shipped_at, k.quantity
  FROM unnest(%(lot_ids)s::uuid[], %(lot_shipments)s::uuid[], %(lot_quantities)s::numeric[])
       AS k(lot_id, shipment_id, quantity)
  JOIN heads h ON h.id = k.shipment_id
  JOIN shipments s ON s.id = h.id
