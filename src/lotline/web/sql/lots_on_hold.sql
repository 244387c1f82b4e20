-- Lots on hold (quarantine / blocked) with what they still hold, most recently changed first.
SELECT l.id, l.lot_code, l.status, l.updated_at, l.expires_at, i.sku, i.uom,
       coalesce((SELECT sum(b.quantity) FROM inventory_balances b WHERE b.lot_id = l.id), 0) AS on_hand
  FROM lots l JOIN items i ON i.id = l.item_id
 WHERE l.status IN ('quarantine', 'blocked')
 ORDER BY l.updated_at DESC, l.lot_code
 LIMIT %(limit)s::int
