-- Purpose: every balance row a bulk chunk changes, in one statement: rows that existed (locked by
--   bulk_lock_balances) are updated by the chunk's net change; keys without a row (new lots) are
--   inserted.
-- Parameters: u_items, u_locations, u_lots uuid[], u_quantities numeric[], u_lasts timestamptz[] (rows
--   to update: net change, latest ledger time); i_* the same for rows to insert (their quantity).
-- Output: none.
-- Invariants: as balances.apply writes them — quantity never below zero (checked before, and the
--   table's CHECK), last_occurred_at the latest ledger time of the key (NULL stays unknown); the
--   two key sets are disjoint; a key inserted meanwhile by another transaction is merged.
WITH updated AS (
    UPDATE inventory_balances b
       SET quantity = b.quantity + k.quantity, last_occurred_at = k.last_occurred_at, updated_at = now()
      FROM unnest(%(u_items)s::uuid[], %(u_locations)s::uuid[], %(u_lots)s::uuid[], %(u_quantities)s::numeric[],
                  %(u_lasts)s::timestamptz[]) AS k(item_id, location_id, lot_id, quantity, last_occurred_at)
     WHERE b.item_id = k.item_id AND b.location_id = k.location_id AND b.lot_id = k.lot_id
    RETURNING 1
)
INSERT INTO inventory_balances (item_id, location_id, lot_id, quantity, last_occurred_at, updated_at)
SELECT k.item_id, k.location_id, k.lot_id, k.quantity, k.last_occurred_at, now()
  FROM unnest(%(i_items)s::uuid[], %(i_locations)s::uuid[], %(i_lots)s::uuid[], %(i_quantities)s::numeric[],
              %(i_lasts)s::timestamptz[]) AS k(item_id, location_id, lot_id, quantity, last_occurred_at)
 ORDER BY k.item_id, k.location_id, k.lot_id
ON CONFLICT ON CONSTRAINT inventory_balances_key
DO UPDATE SET quantity = inventory_balances.quantity + EXCLUDED.quantity,
              last_occurred_at = CASE WHEN inventory_balances.last_occurred_at IS NULL THEN NULL
                                      ELSE greatest(inventory_balances.last_occurred_at,
                                                    EXCLUDED.last_occurred_at) END,
              updated_at = now()
