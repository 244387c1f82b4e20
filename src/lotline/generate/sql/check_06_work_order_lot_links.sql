-- Invariant: every lot row of an execution's consume / produce movement has exactly one
-- work_order_lot_links row of that execution with the matching role, and no link points elsewhere.
-- Output: violations bigint, sample text
WITH expected AS (
    SELECT x.id AS execution_id, iml.id AS iml_id, 'consume' AS role
      FROM work_order_executions x
      JOIN inventory_movement_lines ml ON ml.movement_id = x.consume_movement_id
      JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = ml.id
    UNION ALL
    SELECT x.id, iml.id, 'produce'
      FROM work_order_executions x
      JOIN inventory_movement_lines ml ON ml.movement_id = x.produce_movement_id
      JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = ml.id
), actual AS (
    SELECT work_order_execution_id AS execution_id, inventory_movement_lot_id AS iml_id, role,
           count(*) AS n
      FROM work_order_lot_links
     GROUP BY 1, 2, 3
), bad AS (
    SELECT coalesce(e.iml_id, a.iml_id) AS iml_id
      FROM expected e
      FULL JOIN actual a USING (execution_id, iml_id, role)
     WHERE e.iml_id IS NULL OR a.iml_id IS NULL OR a.n <> 1
    UNION ALL
    SELECT x.id
      FROM work_order_executions x
      LEFT JOIN inventory_movements c ON c.id = x.consume_movement_id
      JOIN inventory_movements p ON p.id = x.produce_movement_id
     WHERE (c.id IS NOT NULL AND c.movement_type <> 'production_consume')
        OR p.movement_type <> 'production_produce'
)
SELECT count(*), string_agg(iml_id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT iml_id, row_number() OVER () AS rn FROM bad) b
