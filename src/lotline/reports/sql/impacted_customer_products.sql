-- Purpose: what each impacted customer received of the recalled goods, per product and lot: the
--          recall report's customer table, summed in the server instead of from every shipped line.
-- Parameters: %(shipment_ids)s uuid[] (a run's impacted shipments, distinct), %(shipped_lot_ids)s uuid[]
--             (its target and downstream lots, distinct), %(case_id)s uuid (its case: the shipped lines
--             of the case's untracked item targets are counted too).
-- Output: customer_id, customer_code, customer_name, contact_email, sku, item_name, lot_code (NULL for
--         an untracked item), uom, quantity (sum), shipments (distinct shipments), first_shipped_at,
--         last_shipped_at; unordered (the report sorts customers by code, products by SKU and lot).
-- Invariants: the quantities are those of recalls/sql/impacted_shipment_lines.sql plus
--   impacted_untracked_lines.sql (what runs.shipment_lines returns), summed: a lot's shipments come
--   from the derived lot_shipments (one row per lot and shipment, its lines' quantity summed, kept by
--   the shipping service), one index probe per recalled lot instead of three per shipped line. A
--   movement line's unit is its item's (inventory.service), so a lot's unit is its item's.
WITH shipment AS MATERIALIZED (
    SELECT x.id FROM unnest(%(shipment_ids)s::uuid[]) AS x(id)
), shipped_lot AS MATERIALIZED (
    SELECT l.id, l.lot_code, l.item_id
      FROM unnest(%(shipped_lot_ids)s::uuid[]) AS x(id)
     CROSS JOIN LATERAL (SELECT l.id, l.lot_code, l.item_id FROM lots l WHERE l.id = x.id OFFSET 0) AS l
), lot_rows AS MATERIALIZED (
    SELECT ls.sales_order_shipment_id AS shipment_id, ls.customer_id, ls.shipped_at, l.item_id, l.lot_code,
           ls.quantity
      FROM shipped_lot l
     CROSS JOIN LATERAL (
            SELECT ls.sales_order_shipment_id, ls.customer_id, ls.shipped_at, ls.quantity
              FROM lot_shipments ls
             WHERE ls.lot_id = l.id
            OFFSET 0
           ) AS ls
), shipped AS (
    SELECT r.shipment_id, r.customer_id, r.shipped_at, r.item_id, r.lot_code, r.quantity
      FROM lot_rows r
      JOIN shipment ON shipment.id = r.shipment_id
     UNION ALL
    -- the case's untracked item targets (impacted_untracked_lines.sql), one row per shipment and item
    SELECT s.id, s.customer_id, s.shipped_at, ml.item_id, NULL::text, sum(-ml.quantity_delta)
      FROM recall_case_targets tg
      JOIN items i ON i.id = tg.item_id AND NOT i.lot_tracked
      JOIN inventory_movement_lines ml ON ml.item_id = tg.item_id AND ml.uom = coalesce(tg.uom, i.uom)
      JOIN sales_order_shipment_lines sl ON sl.inventory_movement_line_id = ml.id
      JOIN sales_order_shipments s ON s.id = sl.sales_order_shipment_id
     WHERE tg.recall_case_id = %(case_id)s::uuid
       AND tg.target_type = 'item'
       AND sl.sales_order_shipment_id IN (SELECT id FROM shipment)
     GROUP BY s.id, s.customer_id, s.shipped_at, ml.item_id
), products AS (
    -- one row per shipment and lot (or untracked item) above, so count(*) counts shipments
    SELECT x.customer_id, x.item_id, x.lot_code, sum(x.quantity) AS quantity, count(*) AS shipments,
           min(x.shipped_at) AS first_shipped_at, max(x.shipped_at) AS last_shipped_at
      FROM shipped x
     GROUP BY x.customer_id, x.item_id, x.lot_code
)
SELECT p.customer_id, c.code AS customer_code, c.name AS customer_name, c.contact_email, i.sku,
       i.name AS item_name, p.lot_code, i.uom, p.quantity, p.shipments, p.first_shipped_at, p.last_shipped_at
  FROM products p
  JOIN customers c ON c.id = p.customer_id
  JOIN items i ON i.id = p.item_id
