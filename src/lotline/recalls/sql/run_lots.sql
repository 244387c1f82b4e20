-- Purpose: the impacted lots of a trace run with item, status, role and current on-hand (runs.run_lots).
-- Parameters: %(run_id)s uuid.
-- Output: lot_id, lot_code, sku, item_name, uom, role, status, expires_at, on_hand (the sum of the
--         lot's inventory_balances rows, 0 when it has none), ordered by role descending, SKU, lot code.
-- Shape: one statement: the run's rows by its index, each lot's balance rows summed by an index
--   probe (LATERAL … OFFSET 0, as the other recall statements: never a scan of every balance), no
--   ORM row objects; the rows are those of the ORM query it replaced (tests/recalls/test_run_lots.py).
SELECT r.lot_id, l.lot_code, i.sku, i.name AS item_name, i.uom, r.role, l.status, l.expires_at,
       b.on_hand
  FROM recall_impacted_lots r
  JOIN lots l ON l.id = r.lot_id
  JOIN items i ON i.id = l.item_id
 CROSS JOIN LATERAL (
        SELECT coalesce(sum(ib.quantity), 0) AS on_hand FROM inventory_balances ib WHERE ib.lot_id = r.lot_id
        OFFSET 0
       ) AS b
 WHERE r.recall_trace_run_id = %(run_id)s::uuid
 ORDER BY r.role DESC, i.sku, l.lot_code
