-- Lot details for a set of lots.
--
-- Parameters: lot_ids uuid[]
-- Output: lot_id, lot_code, item_id, sku, item_name, uom, status, vendor_lot_code, expires_at,
--         manufactured_at, received_at — one row per existing lot (unknown ids are simply absent).
SELECT l.id AS lot_id, l.lot_code, l.item_id, i.sku, i.name AS item_name, i.uom, l.status,
       l.vendor_lot_code, l.expires_at, l.manufactured_at, l.received_at
  FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
  JOIN lots l ON l.id = x.lot_id
  JOIN items i ON i.id = l.item_id
