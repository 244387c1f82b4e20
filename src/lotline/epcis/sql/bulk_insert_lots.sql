-- Purpose: the new lots of a bulk chunk (receipts and production outputs), active, in one statement.
-- Parameters: ids uuid[], items uuid[], codes text[], manufactured timestamptz[], received
--   timestamptz[], expires timestamptz[], vendor_lots text[] (one element per lot).
-- Output: none.
-- Invariants: the columns lots.create_lots writes (notes NULL, updated_at now() as the ORM's
--   default); the audit trigger records one INSERT entry per lot.
INSERT INTO lots (id, item_id, lot_code, status, manufactured_at, received_at, expires_at, vendor_lot_code, notes,
                  updated_at)
SELECT k.id, k.item_id, k.lot_code, 'active', k.manufactured_at, k.received_at, k.expires_at, k.vendor_lot_code, NULL,
       now()
  FROM unnest(%(ids)s::uuid[], %(items)s::uuid[], %(codes)s::text[], %(manufactured)s::timestamptz[],
              %(received)s::timestamptz[], %(expires)s::timestamptz[], %(vendor_lots)s::text[])
       AS k(id, item_id, lot_code, manufactured_at, received_at, expires_at, vendor_lot_code)
