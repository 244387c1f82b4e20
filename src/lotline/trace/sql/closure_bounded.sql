-- As closure.sql, limited to max_depth hops from the start lots.
--
-- Parameters: forward_start uuid[], backward_start uuid[], as_of timestamptz, max_depth integer
-- Output: as closure.sql (same columns, same order), restricted to edges leaving (forward) / entering (backward) lots whose
--   minimum depth is < max_depth.
-- Invariants: the UNION key is (lot, depth) here, which is needed to know the minimum depth; the
--   depth < max_depth bound makes it terminate on cycles and expands a lot at most max_depth times.
WITH RECURSIVE down(lot_id, depth) AS (
    SELECT s.lot_id, 0 FROM unnest(%(forward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.child_lot_id, r.depth + 1
      FROM down r
      JOIN lot_genealogy_edges e ON e.parent_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
       AND r.depth < %(max_depth)s::integer
), up(lot_id, depth) AS (
    SELECT s.lot_id, 0 FROM unnest(%(backward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.parent_lot_id, r.depth + 1
      FROM up r
      JOIN lot_genealogy_edges e ON e.child_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
       AND r.depth < %(max_depth)s::integer
)
SELECT 'forward' AS walk, e.parent_lot_id, e.child_lot_id, e.work_order_execution_id,
       e.consumed_quantity, e.produced_quantity, e.occurred_at
  FROM lot_genealogy_edges e
 WHERE e.parent_lot_id = ANY (ARRAY(SELECT lot_id FROM down GROUP BY lot_id
                                     HAVING min(depth) < %(max_depth)s::integer))
   AND e.occurred_at <= %(as_of)s::timestamptz
UNION ALL
SELECT 'backward', e.parent_lot_id, e.child_lot_id, e.work_order_execution_id,
       e.consumed_quantity, e.produced_quantity, e.occurred_at
  FROM lot_genealogy_edges e
 WHERE e.child_lot_id = ANY (ARRAY(SELECT lot_id FROM up GROUP BY lot_id
                                    HAVING min(depth) < %(max_depth)s::integer))
   AND e.occurred_at <= %(as_of)s::timestamptz
