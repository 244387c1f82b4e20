-- Forward (where-used) and backward (where-from) closures of the start lots over the derived
-- lot_genealogy_edges table, both in one statement, returned as the reached lots (with their item
-- details) followed by the closure's edges.
--
-- Parameters: forward_start uuid[] (empty = no forward walk), backward_start uuid[] (empty = no
--   backward walk), as_of timestamptz, status_as_of timestamptz (NULL: current lot status;
--   else each lot's status as it was then, from the audit trail)
-- Output columns: kind, id, item_id, lot_code, sku, item_name, uom, status, vendor_lot_code,
--   expires_at, downstream, parent_lot_id, child_lot_id, consumed_quantity, produced_quantity,
--   occurred_at.
--   kind 0, one row per reached lot (the start lots plus the children (forward) / parents
--     (backward)), first, in (sku, lot_code, id) order (byte order, as Python compares str): the
--     caller numbers the lots 0..n-1 in this order. id = lot id, then item_id .. expires_at, and
--     downstream = whether the lot is in the forward closure (the start lots included).
--   kind 1 (forward: an edge, occurred_at <= as_of, leaving a lot of the forward closure) and
--     kind 2 (backward: an edge entering a lot of the backward closure): id =
--     work_order_execution_id, then parent_lot_id .. occurred_at; ordered by (occurred_at,
--     parent_lot_id, child_lot_id, execution, kind), so an edge both walks return comes twice in
--     a row. Both ends of every edge are among the kind 0 lots.
--   Columns not relevant to a kind are NULL.
-- Invariants: cycle-safe and linear — the recursive UNION's row is the lot id alone, so each lot is
--   expanded once however many paths or cycles reach it; the minimum depth is computed by the
--   caller from the edges (a BFS over rows already fetched, on the lot numbers, not a query per
--   lot). The edge and lot probes are `= ANY(ARRAY(...))` so they stay index scans whatever the
--   planner guesses of the closure's size. No join between two closure results: the planner
--   cannot estimate a recursive CTE's size (it guessed 10 rows for 4,361 at scale 10, chose a
--   nested loop of edges x reached lots and discarded 40M rows: 10.7 s), so the caller maps edge
--   ends to lot numbers itself (one dict of 128-bit ints).
WITH RECURSIVE down(lot_id) AS (
    SELECT s.lot_id FROM unnest(%(forward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.child_lot_id
      FROM down r
      JOIN lot_genealogy_edges e ON e.parent_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
), up(lot_id) AS (
    SELECT s.lot_id FROM unnest(%(backward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.parent_lot_id
      FROM up r
      JOIN lot_genealogy_edges e ON e.child_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
), reached AS MATERIALIZED (
    SELECT (row_number() OVER (ORDER BY i.sku COLLATE "C", l.lot_code COLLATE "C", l.id))::integer - 1
               AS ix,
           l.id AS lot_id, l.lot_code, l.item_id, i.sku, i.name AS item_name, i.uom,
           -- as of a time: the status then = the old status of the first change after it (audit
           -- trail), else today's; without as_of the audit trail is not read at all
           CASE WHEN %(status_as_of)s::timestamptz IS NULL THEN l.status
                ELSE coalesce((SELECT a.old_values ->> 'status'
                                 FROM audit_log a
                                WHERE a.table_name = 'lots' AND a.record_id = l.id::text
                                  AND a.operation = 'UPDATE' AND a.at > %(status_as_of)s::timestamptz
                                  AND a.old_values ->> 'status' IS DISTINCT FROM a.new_values ->> 'status'
                                ORDER BY a.id LIMIT 1), l.status)
           END AS status,
           l.vendor_lot_code, l.expires_at, l.id IN (SELECT lot_id FROM down) AS downstream
      FROM lots l
      JOIN items i ON i.id = l.item_id
     WHERE l.id = ANY (ARRAY(SELECT lot_id FROM down UNION SELECT lot_id FROM up))
), edges AS (
    SELECT 1 AS kind, e.*
      FROM lot_genealogy_edges e
     WHERE e.parent_lot_id = ANY (ARRAY(SELECT lot_id FROM down))
       AND e.occurred_at <= %(as_of)s::timestamptz
    UNION ALL
    SELECT 2, e.*
      FROM lot_genealogy_edges e
     WHERE e.child_lot_id = ANY (ARRAY(SELECT lot_id FROM up))
       AND e.occurred_at <= %(as_of)s::timestamptz
)
SELECT u.kind, u.id, u.item_id, u.lot_code, u.sku, u.item_name, u.uom, u.status,
       u.vendor_lot_code, u.expires_at, u.downstream, u.parent_lot_id, u.child_lot_id,
       u.consumed_quantity, u.produced_quantity, u.occurred_at
  FROM (
    SELECT 0 AS kind, r.ix, r.lot_id AS id, r.item_id, r.lot_code, r.sku, r.item_name, r.uom,
           r.status, r.vendor_lot_code, r.expires_at, r.downstream, NULL::uuid AS parent_lot_id,
           NULL::uuid AS child_lot_id, NULL::numeric AS consumed_quantity,
           NULL::numeric AS produced_quantity, NULL::timestamptz AS occurred_at
      FROM reached r
    UNION ALL
    SELECT e.kind, NULL, e.work_order_execution_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, e.parent_lot_id, e.child_lot_id, e.consumed_quantity, e.produced_quantity,
           e.occurred_at
      FROM edges e
  ) AS u
 ORDER BY u.kind > 0, u.ix, u.occurred_at, u.parent_lot_id, u.child_lot_id, u.id, u.kind
