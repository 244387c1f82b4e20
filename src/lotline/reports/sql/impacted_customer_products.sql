-- Purpose: what each impacted customer received of the recalled goods, per product, lot and unit: the
--          recall report's customer table, aggregated in the server instead of from every shipped line.
-- Parameters: %(shipment_ids)s uuid[] (a run's impacted shipments, distinct), %(shipped_lot_ids)s uuid[]
--             (its target and downstream lots, distinct), %(case_id)s uuid (its case: the shipped lines
--             of the case's untracked item targets are counted too).
-- Output: customer_id, customer_code, customer_name, contact_email, sku, item_name, lot_code (NULL for
--         an untracked item), uom, quantity (sum), lines (shipped lines summed), first_shipped_at,
--         last_shipped_at; by customer code, SKU, lot code, first shipment, unit.
-- Invariant: the lines summed are exactly recalls/sql/impacted_shipment_lines.sql's plus
--   impacted_untracked_lines.sql's (what runs.shipment_lines returns); the probes are theirs, with
--   the small tables joined once by hash after them (see reports/sql/fsma204_export.sql).
WITH shipment AS MATERIALIZED (
    SELECT s.id, s.customer_id, s.shipped_at
      FROM unnest(%(shipment_ids)s::uuid[]) AS x(id)
     CROSS JOIN LATERAL (
            SELECT s.id, s.customer_id, s.shipped_at FROM sales_order_shipments s WHERE s.id = x.id OFFSET 0
           ) AS s
), shipped_lot AS MATERIALIZED (
    SELECT l.id, l.lot_code
      FROM unnest(%(shipped_lot_ids)s::uuid[]) AS x(id)
     CROSS JOIN LATERAL (SELECT l.id, l.lot_code FROM lots l WHERE l.id = x.id OFFSET 0) AS l
), shipment_lines AS MATERIALIZED (
    SELECT k.shipment_id, k.item_id, k.lot_id, k.quantity, k.uom
      FROM shipment ship
     CROSS JOIN LATERAL (
            SELECT sll.sales_order_shipment_id AS shipment_id, ml.item_id, iml.lot_id,
                   -iml.quantity_delta AS quantity, iml.uom
              FROM shipment_lot_links sll
              JOIN inventory_movement_lots iml ON iml.id = sll.inventory_movement_lot_id
              JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
             WHERE sll.sales_order_shipment_id = ship.id
            OFFSET 0
           ) AS k
), shipped AS (
    SELECT k.shipment_id, k.item_id, shipped_lot.lot_code, k.quantity, k.uom
      FROM shipment_lines k
      JOIN shipped_lot ON shipped_lot.id = k.lot_id
     UNION ALL
    SELECT sl.sales_order_shipment_id, ml.item_id, NULL::text, -ml.quantity_delta, ml.uom
      FROM recall_case_targets tg
      JOIN items i ON i.id = tg.item_id AND NOT i.lot_tracked
      JOIN inventory_movement_lines ml ON ml.item_id = tg.item_id AND ml.uom = coalesce(tg.uom, i.uom)
      JOIN sales_order_shipment_lines sl ON sl.inventory_movement_line_id = ml.id
     WHERE tg.recall_case_id = %(case_id)s::uuid
       AND tg.target_type = 'item'
       AND sl.sales_order_shipment_id IN (SELECT id FROM shipment)
), products AS (
    SELECT s.customer_id, x.item_id, x.lot_code, x.uom, sum(x.quantity) AS quantity, count(*) AS lines,
           min(s.shipped_at) AS first_shipped_at, max(s.shipped_at) AS last_shipped_at
      FROM shipped x
      JOIN shipment s ON s.id = x.shipment_id
     GROUP BY s.customer_id, x.item_id, x.lot_code, x.uom
)
SELECT p.customer_id, c.code AS customer_code, c.name AS customer_name, c.contact_email, i.sku,
       i.name AS item_name, p.lot_code, p.uom, p.quantity, p.lines, p.first_shipped_at, p.last_shipped_at
  FROM products p
  JOIN customers c ON c.id = p.customer_id
  JOIN items i ON i.id = p.item_id
 ORDER BY c.code, i.sku, p.lot_code, p.first_shipped_at, p.uom
