-- Invariant: lot_genealogy_edges is exactly the derivation of work_order_lot_links: per execution,
-- every consumed lot -> every produced lot, with the summed quantities and the execution's time.
-- Output: violations bigint, sample text
WITH used AS (
    SELECT l.work_order_execution_id AS x, iml.lot_id, -sum(iml.quantity_delta) AS q
      FROM work_order_lot_links l
      JOIN inventory_movement_lots iml ON iml.id = l.inventory_movement_lot_id
     WHERE l.role = 'consume'
     GROUP BY 1, 2
), made AS (
    SELECT l.work_order_execution_id AS x, iml.lot_id, sum(iml.quantity_delta) AS q
      FROM work_order_lot_links l
      JOIN inventory_movement_lots iml ON iml.id = l.inventory_movement_lot_id
     WHERE l.role = 'produce'
     GROUP BY 1, 2
), expected AS (
    SELECT u.x, u.lot_id AS parent, m.lot_id AS child, u.q AS consumed, m.q AS produced, ex.occurred_at
      FROM used u
      JOIN made m ON m.x = u.x
      JOIN work_order_executions ex ON ex.id = u.x
), bad AS (
    SELECT coalesce(e.x, g.work_order_execution_id) AS x
      FROM expected e
      FULL JOIN lot_genealogy_edges g
        ON g.work_order_execution_id = e.x AND g.parent_lot_id = e.parent AND g.child_lot_id = e.child
     WHERE e.x IS NULL OR g.work_order_execution_id IS NULL
        OR g.consumed_quantity <> e.consumed OR g.produced_quantity <> e.produced
        OR g.occurred_at <> e.occurred_at
)
SELECT count(*), string_agg(x::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT x, row_number() OVER () AS rn FROM bad) b
