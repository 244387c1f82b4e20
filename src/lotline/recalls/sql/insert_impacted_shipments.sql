-- Purpose: persist the impacted shipments of a trace run in one statement (spec invariant 5):
--          the shipments the trace engine found (of target and downstream lots), plus, for untracked
--          item targets, every shipment of that item in that uom (sales_order_shipment_lines ->
--          inventory_movement_lines) shipped no later than the run's as_of.
-- Parameters: %(run_id)s uuid, %(case_id)s uuid, %(as_of)s timestamptz,
--             %(shipment_ids)s uuid[], %(customer_ids)s uuid[] (parallel arrays from the trace result).
-- Output: none. Invariant: one row per (run, shipment) (UNION removes duplicates).
INSERT INTO recall_impacted_shipments (id, recall_trace_run_id, sales_order_shipment_id, customer_id, created_at)
SELECT gen_random_uuid(), %(run_id)s::uuid, x.shipment_id, x.customer_id, now()
  FROM (
        SELECT k.shipment_id, k.customer_id
          FROM unnest(%(shipment_ids)s::uuid[], %(customer_ids)s::uuid[]) AS k(shipment_id, customer_id)
        UNION
        SELECT s.id, s.customer_id
          FROM recall_case_targets t
          JOIN items i ON i.id = t.item_id AND NOT i.lot_tracked
          JOIN inventory_movement_lines ml ON ml.item_id = t.item_id AND ml.uom = coalesce(t.uom, i.uom)
          JOIN sales_order_shipment_lines sl ON sl.inventory_movement_line_id = ml.id
          JOIN sales_order_shipments s ON s.id = sl.sales_order_shipment_id
         WHERE t.recall_case_id = %(case_id)s::uuid
           AND t.target_type = 'item'
           AND s.shipped_at <= %(as_of)s::timestamptz
       ) AS x
