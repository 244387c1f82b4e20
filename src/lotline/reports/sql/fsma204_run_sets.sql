-- Purpose: the id sets of a persisted trace run as PostgreSQL array literals, for fsma204_export.sql.
-- Parameters: %(run_id)s uuid.
-- Output: one row — lot_ids (every impacted lot, distinct), recalled_lot_ids (targets and downstream
--         lots, distinct), shipment_ids (impacted shipments), each as text ('{…}', '{}' when empty).
-- Invariant: the sets of recalls/sql/run_sets.sql; as text, so 10^4 ids cross to Python and back as
--   three strings, never as uuid objects (the export statement casts them back to uuid[]).
SELECT (SELECT coalesce(array_agg(DISTINCT lot_id), '{}') FROM recall_impacted_lots
         WHERE recall_trace_run_id = %(run_id)s::uuid)::text AS lot_ids,
       (SELECT coalesce(array_agg(DISTINCT lot_id), '{}') FROM recall_impacted_lots
         WHERE recall_trace_run_id = %(run_id)s::uuid AND role <> 'upstream_component')::text AS recalled_lot_ids,
       (SELECT coalesce(array_agg(sales_order_shipment_id), '{}') FROM recall_impacted_shipments
         WHERE recall_trace_run_id = %(run_id)s::uuid)::text AS shipment_ids
