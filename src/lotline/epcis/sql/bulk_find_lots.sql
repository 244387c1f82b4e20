-- Purpose: the lots a bulk chunk takes from, by (item, lot code) — not locked here: a lot's code
--   never changes; their balance rows and then the lots themselves are locked next.
-- Parameters: items uuid[], codes text[] (pairs, same length).
-- Output: id, item_id, lot_code (one row per pair that names a lot).
SELECT l.id, l.item_id, l.lot_code
  FROM unnest(%(items)s::uuid[], %(codes)s::text[]) AS k(item_id, lot_code)
  JOIN lots l ON l.item_id = k.item_id AND l.lot_code = k.lot_code
