-- Invariant: inventory_balances holds, per (item, location, lot), the sum of the ledger's lot rows
-- (and of the lines of untracked items).
-- Output: violations bigint, sample text
WITH ledger AS (
    SELECT ml.item_id, ml.location_id, iml.lot_id, sum(iml.quantity_delta) AS q
      FROM inventory_movement_lots iml
      JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
     GROUP BY 1, 2, 3
    UNION ALL
    SELECT ml.item_id, ml.location_id, NULL::uuid, sum(ml.quantity_delta)
      FROM inventory_movement_lines ml
      JOIN items i ON i.id = ml.item_id
     WHERE NOT i.lot_tracked
     GROUP BY 1, 2
), bad AS (
    SELECT coalesce(l.lot_id, b.lot_id) AS lot_id
      FROM ledger l
      FULL JOIN inventory_balances b
        ON b.item_id = l.item_id AND b.location_id = l.location_id
       -- a hashable form of "lot_id IS NOT DISTINCT FROM": the planner cannot hash IS NOT DISTINCT
       -- FROM and would compare every lot of an (item, location) with every other
       AND coalesce(b.lot_id, '00000000-0000-0000-0000-000000000000'::uuid)
         = coalesce(l.lot_id, '00000000-0000-0000-0000-000000000000'::uuid)
     WHERE coalesce(l.q, 0) <> coalesce(b.quantity, 0)
)
SELECT count(*), string_agg(coalesce(lot_id::text, 'untracked'), ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT lot_id, row_number() OVER () AS rn FROM bad) b
