-- Purpose: as insert_run_closure.sql, limited to max_depth hops from the start lots: persist what
--          a trace run impacted straight from the genealogy, in one statement (spec invariant 5): the impacted lots with their roles and the impacted shipments with their
--          customers, without the trace result ever leaving the server. The trace engine's closure
--          (trace/sql/closure.sql) and shipments (trace/sql/shipments.sql) semantics.
-- Parameters: %(run_id)s uuid, %(targets)s uuid[] (the run's start lots), %(forward_start)s uuid[]
--             and %(backward_start)s uuid[] (the start lots for the walks the direction asks for,
--             else empty), %(as_of)s timestamptz, %(max_depth)s integer.
-- Output: one row — lots (impacted lot rows inserted), shipments (impacted shipment rows inserted).
-- Invariants: roles as the trace engine gives them — the start lots are 'target' (and only that);
--   a lot of the backward closure is 'upstream_component', of the forward closure
--   'downstream_finished' (a lot on a cycle through the targets is both, once per role). Shipments
--   are those of the targets and of the forward closure up to as_of (never the other uses of an
--   upstream component), one row per shipment; all within max_depth hops. The UNION key is (lot,
--   depth) here, bounded by max_depth, so it terminates on cycles. Every lookup is an index probe
--   at every scale (the walks join the edge indexes; the shipments are a LATERAL … OFFSET 0
--   subquery).
WITH RECURSIVE down_walk(lot_id, depth) AS (
    SELECT s.lot_id, 0 FROM unnest(%(forward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.child_lot_id, r.depth + 1
      FROM down_walk r
      JOIN lot_genealogy_edges e ON e.parent_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
       AND r.depth < %(max_depth)s::integer
), up_walk(lot_id, depth) AS (
    SELECT s.lot_id, 0 FROM unnest(%(backward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.parent_lot_id, r.depth + 1
      FROM up_walk r
      JOIN lot_genealogy_edges e ON e.child_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
       AND r.depth < %(max_depth)s::integer
), down AS MATERIALIZED (
    SELECT DISTINCT lot_id FROM down_walk
), up AS MATERIALIZED (
    SELECT DISTINCT lot_id FROM up_walk
), impacted_lots AS (
    INSERT INTO recall_impacted_lots (id, recall_trace_run_id, lot_id, role, created_at)
    SELECT gen_random_uuid(), %(run_id)s::uuid, k.lot_id, k.role, now()
      FROM (SELECT DISTINCT t.lot_id, 'target' AS role FROM unnest(%(targets)s::uuid[]) AS t(lot_id)
            UNION ALL
            SELECT u.lot_id, 'upstream_component' FROM up u WHERE u.lot_id <> ALL (%(targets)s::uuid[])
            UNION ALL
            SELECT d.lot_id, 'downstream_finished' FROM down d WHERE d.lot_id <> ALL (%(targets)s::uuid[])) AS k
    RETURNING 1
), impacted_shipments AS (
    INSERT INTO recall_impacted_shipments (id, recall_trace_run_id, sales_order_shipment_id, customer_id, created_at)
    SELECT gen_random_uuid(), %(run_id)s::uuid, s.sales_order_shipment_id, s.customer_id, now()
      FROM (SELECT DISTINCT ls.sales_order_shipment_id, ls.customer_id
              FROM (SELECT d.lot_id FROM down d
                    UNION
                    SELECT t.lot_id FROM unnest(%(targets)s::uuid[]) AS t(lot_id)) AS x
             CROSS JOIN LATERAL (
                    SELECT l.sales_order_shipment_id, l.customer_id
                      FROM lot_shipments l
                     WHERE l.lot_id = x.lot_id AND l.shipped_at <= %(as_of)s::timestamptz
                    OFFSET 0
                   ) AS ls) AS s
    RETURNING 1
)
SELECT (SELECT count(*) FROM impacted_lots) AS lots, (SELECT count(*) FROM impacted_shipments) AS shipments
