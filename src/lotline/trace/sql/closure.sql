-- Forward (where-used) and backward (where-from) closures of the start lots over the derived
-- lot_genealogy_edges table, both in one statement, returned as their edges.
--
-- Parameters: forward_start uuid[] (empty = no forward walk), backward_start uuid[] (empty = no
--   backward walk), as_of timestamptz
-- Output: walk ('forward' | 'backward'), parent_lot_id, child_lot_id, work_order_execution_id,
--   consumed_quantity, produced_quantity, occurred_at (TraceEdge's field order: the caller builds
--   it positionally) — every edge (occurred_at <= as_of) leaving a lot of the forward closure, and
--   every edge entering a lot of the backward closure. The lots reached are the start lots plus
--   the children (forward) / parents (backward).
-- Invariants: cycle-safe and linear — the recursive UNION's row is the lot id alone, so each lot is
--   expanded once however many paths or cycles reach it; the minimum depth is computed by the
--   caller from the edges (a BFS over rows already fetched, not a query per lot). The final probe
--   is `= ANY(ARRAY(...))` so it stays an index scan whatever the planner guesses of the size.
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
)
SELECT 'forward' AS walk, e.parent_lot_id, e.child_lot_id, e.work_order_execution_id,
       e.consumed_quantity, e.produced_quantity, e.occurred_at
  FROM lot_genealogy_edges e
 WHERE e.parent_lot_id = ANY (ARRAY(SELECT lot_id FROM down))
   AND e.occurred_at <= %(as_of)s::timestamptz
UNION ALL
SELECT 'backward', e.parent_lot_id, e.child_lot_id, e.work_order_execution_id,
       e.consumed_quantity, e.produced_quantity, e.occurred_at
  FROM lot_genealogy_edges e
 WHERE e.child_lot_id = ANY (ARRAY(SELECT lot_id FROM up))
   AND e.occurred_at <= %(as_of)s::timestamptz
