-- Purpose: create new lots in one statement, all of them or none: nothing is inserted when the
--   item of any of them already has its code (the caller then refuses it, DuplicateKey, having
--   written nothing).
-- Parameters: ids uuid[], items uuid[], codes text[], statuses text[], manufactured timestamptz[],
--   received timestamptz[], expires timestamptz[], vendor_codes text[], notes text[] — one element
--   per lot, codes distinct per item (checked by the caller).
-- Output: id of every lot inserted (all of them, or no row).
-- Invariants: idx_lots_item_code keeps one lot per (item, code): a code a concurrent transaction
--   inserts at the same time fails this statement on it (unique violation, DuplicateKey at the
--   boundary), as any insert would; the audit trigger on lots fires as for any insert;
--   created_at and updated_at are the transaction's time.
WITH k AS (
    SELECT *
      FROM unnest(%(ids)s::uuid[], %(items)s::uuid[], %(codes)s::text[], %(statuses)s::text[],
                  %(manufactured)s::timestamptz[], %(received)s::timestamptz[], %(expires)s::timestamptz[],
                  %(vendor_codes)s::text[], %(notes)s::text[])
           AS k(id, item_id, lot_code, status, manufactured_at, received_at, expires_at, vendor_lot_code, notes)
)
INSERT INTO lots (id, item_id, lot_code, status, manufactured_at, received_at, expires_at,
                  vendor_lot_code, notes, updated_at)
SELECT k.id, k.item_id, k.lot_code, k.status, k.manufactured_at, k.received_at, k.expires_at,
       k.vendor_lot_code, k.notes, now()
  FROM k
 WHERE NOT EXISTS (SELECT 1 FROM k JOIN lots l ON l.item_id = k.item_id AND l.lot_code = k.lot_code)
RETURNING id
