-- Invariant: the lot rows of a line of a lot-tracked item sum exactly to the line, with the line's
-- sign and uom; untracked items carry no lot rows (spec invariant 2).
-- Output: violations bigint, sample text (up to 5 offending line ids)
WITH per_line AS (
    SELECT ml.id, ml.quantity_delta, ml.uom, i.lot_tracked, i.uom AS item_uom,
           coalesce(sum(iml.quantity_delta), 0) AS lots_total, count(iml.id) AS lot_rows,
           count(*) FILTER (WHERE sign(iml.quantity_delta) <> sign(ml.quantity_delta)) AS wrong_sign,
           count(*) FILTER (WHERE iml.uom <> ml.uom) AS wrong_uom
      FROM inventory_movement_lines ml
      JOIN items i ON i.id = ml.item_id
      LEFT JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = ml.id
     GROUP BY ml.id, ml.quantity_delta, ml.uom, i.lot_tracked, i.uom
), bad AS (
    SELECT id FROM per_line
     WHERE (lot_tracked AND (lot_rows = 0 OR lots_total <> quantity_delta OR wrong_sign > 0 OR wrong_uom > 0))
        OR (NOT lot_tracked AND lot_rows > 0)
        OR uom <> item_uom
)
SELECT count(*), string_agg(id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT id, row_number() OVER () AS rn FROM bad) b
