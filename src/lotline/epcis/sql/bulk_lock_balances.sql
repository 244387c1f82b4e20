-- Purpose: lock the balance rows a bulk chunk changes (of lots that existed before it), FOR UPDATE
--   in the global order (item, location, lot) that every posting follows.
-- Parameters: items uuid[], locations uuid[], lots uuid[] (keys, same length).
-- Output: item_id, location_id, lot_id, quantity, last_occurred_at of the rows that exist.
SELECT b.item_id, b.location_id, b.lot_id, b.quantity, b.last_occurred_at
  FROM inventory_balances b
  JOIN unnest(%(items)s::uuid[], %(locations)s::uuid[], %(lots)s::uuid[]) AS k(item_id, location_id, lot_id)
    ON b.item_id = k.item_id AND b.location_id = k.location_id AND b.lot_id = k.lot_id
 ORDER BY b.item_id, b.location_id, b.lot_id
   FOR UPDATE OF b
