-- Ledger rows of the lots being exported, as of a time: one row per lot row, with its movement, line,
-- the execution or shipment it belongs to. Input: %(lot_ids)s uuid[], %(as_of)s timestamptz.
-- Output columns in this order (export.py reads them by position); ordered as the ledger was posted.
SELECT m.id, m.movement_type, m.occurred_at, m.status, m.reverses_movement_id, m.vendor_id, m.customer_id,
       l.line_no, l.item_id, l.location_id, r.lot_id, r.quantity_delta,
       coalesce(ec.id, ep.id) AS execution_id, coalesce(ec.occurred_at, ep.occurred_at) AS executed_at,
       coalesce(wc.number, wp.number) AS work_order_number, (ec.id IS NOT NULL) AS is_consume,
       coalesce(ec.consume_movement_id, ep.consume_movement_id, ep.produce_movement_id) AS execution_key,
       sh.sales_order_id, so.number AS order_number, m.created_at
  FROM inventory_movement_lots r
  JOIN inventory_movement_lines l ON l.id = r.inventory_movement_line_id
  JOIN inventory_movements m ON m.id = l.movement_id
  LEFT JOIN work_order_executions ec ON ec.consume_movement_id = m.id
  LEFT JOIN work_orders wc ON wc.id = ec.work_order_id
  LEFT JOIN work_order_executions ep ON ep.produce_movement_id = m.id
  LEFT JOIN work_orders wp ON wp.id = ep.work_order_id
  LEFT JOIN sales_order_shipments sh ON sh.inventory_movement_id = m.id
  LEFT JOIN sales_orders so ON so.id = sh.sales_order_id
 WHERE r.lot_id = ANY(CAST(%(lot_ids)s AS uuid[]))
   AND m.occurred_at <= CAST(%(as_of)s AS timestamptz)
 ORDER BY m.occurred_at, m.created_at, m.id, l.line_no, r.id
