-- Purpose: persist the impacted shipments the trace engine found (of target and downstream lots) for
--          a trace run, in one statement (spec invariant 5).
-- Parameters: %(run_id)s uuid, %(shipment_ids)s uuid[], %(customer_ids)s uuid[] (parallel arrays,
--             one entry per distinct shipment).
-- Output: none. Invariant: one row per (run, shipment).
INSERT INTO recall_impacted_shipments (id, recall_trace_run_id, sales_order_shipment_id, customer_id, created_at)
SELECT gen_random_uuid(), %(run_id)s::uuid, k.shipment_id, k.customer_id, now()
  FROM unnest(%(shipment_ids)s::uuid[], %(customer_ids)s::uuid[]) AS k(shipment_id, customer_id)
