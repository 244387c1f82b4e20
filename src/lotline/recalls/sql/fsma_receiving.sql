-- Purpose: FSMA 204 receiving events of a trace run's impacted lots (any role), up to the run's as_of.
-- Parameters: %(lot_ids)s uuid[] (the run's impacted lots, any role, distinct), %(as_of)s timestamptz.
-- Output: event_at, lot_code, vendor_lot_code, sku, item_name, quantity, uom, location_code,
--         location_name, source (vendor name), reference_number (receipt external ref or movement id).
-- Invariants: a receipt always creates its lot with received_at set (inventory.receive), so only
--   lots with received_at are looked at — not every movement of every downstream lot. Reversed
--   receipts and their reversals are left out (they cancel each other).
WITH lots_in AS (
    SELECT l.id, l.lot_code, l.vendor_lot_code, l.item_id
      FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
      JOIN lots l ON l.id = x.lot_id
     WHERE l.received_at IS NOT NULL
)
SELECT m.occurred_at AS event_at, lots_in.lot_code, lots_in.vendor_lot_code, i.sku, i.name AS item_name,
       iml.quantity_delta AS quantity, iml.uom, loc.code AS location_code, loc.name AS location_name,
       v.name AS source, coalesce(m.external_ref, m.id::text) AS reference_number
  FROM lots_in
  JOIN inventory_movement_lots iml ON iml.lot_id = lots_in.id
  JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
  JOIN inventory_movements m ON m.id = ml.movement_id
  JOIN items i ON i.id = lots_in.item_id
  JOIN locations loc ON loc.id = ml.location_id
  LEFT JOIN vendors v ON v.id = m.vendor_id
 WHERE m.movement_type = 'receipt'
   AND m.occurred_at <= %(as_of)s::timestamptz
   AND m.status = 'posted'
   AND m.reverses_movement_id IS NULL
 ORDER BY m.occurred_at, lots_in.lot_code
