-- Purpose: impacted shipments that differ between two trace runs of a case.
-- Parameters: %(old)s uuid, %(new)s uuid (run ids).
-- Output: change ('added' | 'removed'), shipment_id, sales_order_number, shipped_at, customer_code.
WITH o AS (SELECT sales_order_shipment_id AS id FROM recall_impacted_shipments WHERE recall_trace_run_id = %(old)s::uuid),
     n AS (SELECT sales_order_shipment_id AS id FROM recall_impacted_shipments WHERE recall_trace_run_id = %(new)s::uuid),
     d AS (
        SELECT 'added' AS change, id FROM (SELECT id FROM n EXCEPT SELECT id FROM o) a
        UNION ALL
        SELECT 'removed', id FROM (SELECT id FROM o EXCEPT SELECT id FROM n) r
     )
SELECT d.change, d.id AS shipment_id, so.number AS sales_order_number, s.shipped_at, c.code AS customer_code
  FROM d
  JOIN sales_order_shipments s ON s.id = d.id
  JOIN sales_orders so ON so.id = s.sales_order_id
  JOIN customers c ON c.id = s.customer_id
 ORDER BY d.change, c.code, s.shipped_at
