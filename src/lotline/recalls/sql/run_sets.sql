-- Purpose: the id sets of a persisted trace run, handed on to the report SQL as arrays.
-- Parameters: %(run_id)s uuid.
-- Output: one row — lot_ids (every impacted lot, distinct), recalled_lot_ids (targets and downstream
--         lots, i.e. all but upstream components, distinct), shipment_ids (impacted shipments).
-- Invariant: arrays, never NULL ('{}' when empty): 10^4 ids come back as three values, not 10^4 rows.
SELECT (SELECT coalesce(array_agg(DISTINCT lot_id), '{}') FROM recall_impacted_lots
         WHERE recall_trace_run_id = %(run_id)s::uuid) AS lot_ids,
       (SELECT coalesce(array_agg(DISTINCT lot_id), '{}') FROM recall_impacted_lots
         WHERE recall_trace_run_id = %(run_id)s::uuid AND role <> 'upstream_component') AS recalled_lot_ids,
       (SELECT coalesce(array_agg(sales_order_shipment_id), '{}') FROM recall_impacted_shipments
         WHERE recall_trace_run_id = %(run_id)s::uuid) AS shipment_ids
