-- Purpose: FSMA 204 receiving events of a trace run's impacted lots (any role), up to the run's as_of.
-- Parameters: %(run_id)s uuid.
-- Output: event_at, lot_code, vendor_lot_code, sku, item_name, quantity, uom, location_code,
--         location_name, source (vendor name), reference_number (receipt external ref or movement id).
-- Invariant: reversed receipts and their reversals are left out (they cancel each other).
WITH run AS (
    SELECT id, as_of FROM recall_trace_runs WHERE id = %(run_id)s::uuid
), lots_in AS (
    SELECT DISTINCT ril.lot_id FROM run JOIN recall_impacted_lots ril ON ril.recall_trace_run_id = run.id
)
SELECT m.occurred_at AS event_at, l.lot_code, l.vendor_lot_code, i.sku, i.name AS item_name,
       iml.quantity_delta AS quantity, iml.uom, loc.code AS location_code, loc.name AS location_name,
       v.name AS source, coalesce(m.external_ref, m.id::text) AS reference_number
  FROM lots_in
  JOIN inventory_movement_lots iml ON iml.lot_id = lots_in.lot_id
  JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
  JOIN inventory_movements m ON m.id = ml.movement_id
  JOIN run ON m.occurred_at <= run.as_of
  JOIN lots l ON l.id = iml.lot_id
  JOIN items i ON i.id = l.item_id
  JOIN locations loc ON loc.id = ml.location_id
  LEFT JOIN vendors v ON v.id = m.vendor_id
 WHERE m.movement_type = 'receipt'
   AND m.status = 'posted'
   AND m.reverses_movement_id IS NULL
 ORDER BY m.occurred_at, l.lot_code
