-- Purpose: what each impacted customer received of the recalled goods, for one trace run: one row
--          per shipped lot row of a target or downstream lot on an impacted shipment (untracked item
--          targets: impacted_untracked_lines.sql).
-- Parameters: %(shipment_ids)s uuid[] (the run's impacted shipments, distinct),
--             %(lot_ids)s uuid[] (the run's target and downstream lots, distinct).
--             Ids come as arrays, not as a join to the run's rows, so the planner knows their
--             number (unnest of a constant array) whatever the statistics of the recall tables.
-- Output: customer_id, customer_code, customer_name, contact_email, sales_order_number, shipped_at,
--         sku, item_name, location_code, location_name, lot_code, quantity (positive), uom.
--         (No other ids: 10^4-10^5 rows, and every uuid costs a Python object.)
-- Invariant: upstream components' own shipments are never listed (only target/downstream lots).
-- Shape: shipment-level and lot-level details are looked up once per shipment / lot (materialized)
--        and hash-joined to the lines, not once per line. Every lookup from the given ids is a
--        LATERAL … OFFSET 0 index probe the planner cannot flatten: on small data a run reaches a
--        large share of the tables and it chose sequential scans and merge joins over them
--        (scale 100: 1.0 s instead of ~0.1 s).
WITH ship AS MATERIALIZED (
    SELECT s.id, s.customer_id, s.shipped_at, s.sales_order_number, c.code AS customer_code,
           c.name AS customer_name, c.contact_email
      FROM unnest(%(shipment_ids)s::uuid[]) AS x(id)
     CROSS JOIN LATERAL (
            SELECT s.id, s.customer_id, s.shipped_at, so.number AS sales_order_number
              FROM sales_order_shipments s
              JOIN sales_orders so ON so.id = s.sales_order_id
             WHERE s.id = x.id
            OFFSET 0
           ) AS s
      JOIN customers c ON c.id = s.customer_id
), lot AS MATERIALIZED (
    SELECT l.id, l.lot_code
      FROM unnest(%(lot_ids)s::uuid[]) AS x(id)
     CROSS JOIN LATERAL (SELECT l.id, l.lot_code FROM lots l WHERE l.id = x.id OFFSET 0) AS l
), shipped AS (
    SELECT k.shipment_id, k.item_id, k.location_id, lot.id AS lot_id, lot.lot_code, k.quantity, k.uom
      FROM ship
     CROSS JOIN LATERAL (
            SELECT sll.sales_order_shipment_id AS shipment_id, ml.item_id, ml.location_id, iml.lot_id,
                   -iml.quantity_delta AS quantity, iml.uom
              FROM shipment_lot_links sll
              JOIN inventory_movement_lots iml ON iml.id = sll.inventory_movement_lot_id
              JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
             WHERE sll.sales_order_shipment_id = ship.id
            OFFSET 0
           ) AS k
      JOIN lot ON lot.id = k.lot_id
)
SELECT ship.customer_id, ship.customer_code, ship.customer_name, ship.contact_email,
       ship.sales_order_number, ship.shipped_at, i.sku, i.name AS item_name, loc.code AS location_code,
       loc.name AS location_name, x.lot_code, x.quantity, x.uom
  FROM shipped x
  JOIN ship ON ship.id = x.shipment_id
  JOIN items i ON i.id = x.item_id
  JOIN locations loc ON loc.id = x.location_id
 ORDER BY ship.customer_code, ship.shipped_at, ship.sales_order_number, i.sku, x.lot_code
