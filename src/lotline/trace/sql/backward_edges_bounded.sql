-- Backward closure limited to max_depth hops, returned as its edges.
--
-- Parameters: start_lot_ids uuid[], as_of timestamptz, max_depth integer (>= 0)
-- Output: as backward_edges.sql, restricted to edges entering lots whose minimum depth < max_depth.
-- Invariants: as forward_edges_bounded.sql.
WITH RECURSIVE reach(lot_id, depth) AS (
    SELECT s.lot_id, 0 FROM unnest(%(start_lot_ids)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.parent_lot_id, r.depth + 1
      FROM reach r
      JOIN lot_genealogy_edges e ON e.child_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
       AND r.depth < %(max_depth)s::integer
),
nearest AS (
    SELECT lot_id, min(depth) AS depth FROM reach GROUP BY lot_id
)
SELECT e.work_order_execution_id, e.parent_lot_id, e.child_lot_id,
       e.consumed_quantity, e.produced_quantity, e.occurred_at
  FROM nearest n
  JOIN lot_genealogy_edges e ON e.child_lot_id = n.lot_id
 WHERE e.occurred_at <= %(as_of)s::timestamptz
   AND n.depth < %(max_depth)s::integer
