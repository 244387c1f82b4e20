-- Lots with stock that expire within the window (soonest first). Starts from the balances with stock.
SELECT l.id, l.lot_code, l.status, l.expires_at, i.sku, i.uom, sum(b.quantity) AS on_hand
  FROM inventory_balances b
  JOIN lots l ON l.id = b.lot_id
  JOIN items i ON i.id = l.item_id
 WHERE b.quantity > 0 AND l.status IN ('active', 'quarantine')
   AND l.expires_at >= %(now)s::timestamptz AND l.expires_at < %(until)s::timestamptz
 GROUP BY l.id, i.sku, i.uom
 ORDER BY l.expires_at, l.lot_code
 LIMIT %(limit)s::int
