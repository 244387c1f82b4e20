-- Current on-hand of a set of lots from the derived balance table (maintained at posting time).
--
-- Parameters: lot_ids uuid[]
-- Output: lot_id, location_id, location_code, location_kind, quantity — zero rows included, so a
--   difference with the ledger can be shown.
SELECT b.lot_id, b.location_id, loc.code AS location_code, loc.kind AS location_kind, b.quantity
  FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
  JOIN inventory_balances b ON b.lot_id = x.lot_id
  JOIN locations loc ON loc.id = b.location_id
