-- Forward (where-used) closure of the start lots over lot_genealogy_edges, returned as its edges.
--
-- Parameters: start_lot_ids uuid[], as_of timestamptz
-- Output: work_order_execution_id, parent_lot_id, child_lot_id, consumed_quantity, produced_quantity,
--         occurred_at — every edge (occurred_at <= as_of) whose parent is the start lots or a lot
--         reachable from them. The lots reached are the start lots plus every child_lot_id.
-- Invariants: cycle-safe and linear — the recursive UNION's row is the lot id alone, so each lot is
--   expanded once however many paths or cycles reach it (depth is computed by the caller from the
--   edges, which is a BFS over rows already fetched, not a query per lot).
WITH RECURSIVE reach(lot_id) AS (
    SELECT s.lot_id FROM unnest(%(start_lot_ids)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.child_lot_id
      FROM reach r
      JOIN lot_genealogy_edges e ON e.parent_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
)
SELECT e.work_order_execution_id, e.parent_lot_id, e.child_lot_id,
       e.consumed_quantity, e.produced_quantity, e.occurred_at
  FROM reach r
  JOIN lot_genealogy_edges e ON e.parent_lot_id = r.lot_id
 WHERE e.occurred_at <= %(as_of)s::timestamptz
