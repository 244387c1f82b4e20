-- Invariant: receipts, production output and returns add stock; shipments, consumption and scrap
-- remove it (a reversal the opposite); a transfer takes from one place exactly what it puts in another, per lot.
-- Output: violations bigint, sample text (movement ids)
WITH bad AS (
    SELECT m.id
      FROM inventory_movements m
      JOIN inventory_movement_lines ml ON ml.movement_id = m.id
     -- a reversal keeps its original's type with every sign flipped
     CROSS JOIN LATERAL (SELECT CASE WHEN m.reverses_movement_id IS NULL THEN ml.quantity_delta
                                     ELSE -ml.quantity_delta END AS q) AS d
     WHERE (m.movement_type IN ('receipt', 'production_produce', 'return') AND d.q < 0)
        OR (m.movement_type IN ('shipment', 'production_consume', 'scrap') AND d.q > 0)
    UNION
    SELECT ml.movement_id
      FROM inventory_movement_lots iml
      JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
      JOIN inventory_movements m ON m.id = ml.movement_id
     WHERE m.movement_type = 'transfer'
     GROUP BY ml.movement_id, iml.lot_id
    HAVING sum(iml.quantity_delta) <> 0
)
SELECT count(*), string_agg(id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT id, row_number() OVER () AS rn FROM bad) b
