-- Purpose: create new lots in one statement, each unless its item already has the code (the
--   caller refuses the lots that did not come back: DuplicateKey, and its transaction rolls back).
-- Parameters: ids uuid[], items uuid[], codes text[], statuses text[], manufactured timestamptz[],
--   received timestamptz[], expires timestamptz[], vendor_codes text[], notes text[] — one element
--   per lot, codes distinct per item (checked by the caller).
-- Output: id of every lot inserted (those whose (item, code) was free).
-- Invariants: idx_lots_item_code keeps one lot per (item, code) — a code taken by a concurrent
--   transaction is waited for and then skipped like one taken before; the audit trigger on lots
--   fires as for any insert; created_at and updated_at are the transaction's time.
INSERT INTO lots (id, item_id, lot_code, status, manufactured_at, received_at, expires_at,
                  vendor_lot_code, notes, updated_at)
SELECT k.id, k.item_id, k.lot_code, k.status, k.manufactured_at, k.received_at, k.expires_at,
       k.vendor_lot_code, k.notes, now()
  FROM unnest(%(ids)s::uuid[], %(items)s::uuid[], %(codes)s::text[], %(statuses)s::text[],
              %(manufactured)s::timestamptz[], %(received)s::timestamptz[], %(expires)s::timestamptz[],
              %(vendor_codes)s::text[], %(notes)s::text[])
       AS k(id, item_id, lot_code, status, manufactured_at, received_at, expires_at, vendor_lot_code, notes)
ON CONFLICT (item_id, lot_code) DO NOTHING
RETURNING id
