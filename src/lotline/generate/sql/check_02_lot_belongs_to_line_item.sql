-- Invariant: every lot row's lot belongs to its line's item (spec invariant 1).
-- Output: violations bigint, sample text
SELECT count(*), string_agg(iml.id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (
    SELECT iml.id, row_number() OVER () AS rn
      FROM inventory_movement_lots iml
      JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
      JOIN lots l ON l.id = iml.lot_id
     WHERE l.item_id <> ml.item_id
  ) iml
