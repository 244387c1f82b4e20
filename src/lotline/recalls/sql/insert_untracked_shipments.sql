-- Purpose: persist, for a trace run, the shipments of the case's untracked item targets: every
--          shipment of that item in that uom (sales_order_shipment_lines -> inventory_movement_lines)
--          shipped no later than the run's as_of. Only run when the case has such targets.
-- Parameters: %(run_id)s uuid, %(case_id)s uuid, %(as_of)s timestamptz.
-- Output: none. Invariant: one row per (run, shipment): shipments already recorded for the run
--         (also reached through a lot) are skipped.
INSERT INTO recall_impacted_shipments (id, recall_trace_run_id, sales_order_shipment_id, customer_id, created_at)
SELECT gen_random_uuid(), %(run_id)s::uuid, x.id, x.customer_id, now()
  FROM (
        SELECT DISTINCT s.id, s.customer_id
          FROM recall_case_targets t
          JOIN items i ON i.id = t.item_id AND NOT i.lot_tracked
          JOIN inventory_movement_lines ml ON ml.item_id = t.item_id AND ml.uom = coalesce(t.uom, i.uom)
          JOIN sales_order_shipment_lines sl ON sl.inventory_movement_line_id = ml.id
          JOIN sales_order_shipments s ON s.id = sl.sales_order_shipment_id
         WHERE t.recall_case_id = %(case_id)s::uuid
           AND t.target_type = 'item'
           AND s.shipped_at <= %(as_of)s::timestamptz
       ) AS x
ON CONFLICT (recall_trace_run_id, sales_order_shipment_id) DO NOTHING
