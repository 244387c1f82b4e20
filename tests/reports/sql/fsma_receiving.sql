-- Purpose: FSMA 204 receiving events of a trace run's impacted lots (any role), up to the run's as_of.
-- Parameters: %(lot_ids)s uuid[] (the run's impacted lots, any role, distinct), %(as_of)s timestamptz.
-- Output: event_at, lot_code, vendor_lot_code, sku, item_name, quantity, uom, location_code,
--         location_name, source (vendor name), reference_number (receipt external ref or movement id).
-- Invariants: a receipt always creates its lot with received_at set (inventory.receive), so only
--   lots with received_at are looked at — not every movement of every downstream lot — and of
--   those only their receipt movements (lot_flow_totals lists them), not every ledger row of a raw
--   lot consumed thousands of times. Reversed receipts and their reversals are left out (they
--   cancel each other). Lookups are LATERAL … OFFSET 0 index probes at every scale.
WITH lots_in AS MATERIALIZED (
    SELECT l.id, l.lot_code, l.vendor_lot_code, l.item_id
      FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
     CROSS JOIN LATERAL (
            SELECT l.id, l.lot_code, l.vendor_lot_code, l.item_id FROM lots l
             WHERE l.id = x.lot_id AND l.received_at IS NOT NULL
            OFFSET 0
           ) AS l
), receipts AS MATERIALIZED (
    -- the lot's receipt movements, from the derived per-lot totals (migration 0030: kept equal to
    -- the ledger, receipts per movement), not from every ledger row of the lot
    SELECT lots_in.id AS lot_id, f.movement_id
      FROM lots_in
     CROSS JOIN LATERAL (
            SELECT DISTINCT f.movement_id FROM lot_flow_totals f
             WHERE f.lot_id = lots_in.id AND f.movement_type = 'receipt'
            OFFSET 0
           ) AS f
)
SELECT m.occurred_at AS event_at, lots_in.lot_code, lots_in.vendor_lot_code, i.sku, i.name AS item_name,
       k.quantity_delta AS quantity, k.uom, loc.code AS location_code, loc.name AS location_name,
       v.name AS source, coalesce(m.external_ref, m.id::text) AS reference_number
  FROM receipts r
  JOIN lots_in ON lots_in.id = r.lot_id
 CROSS JOIN LATERAL (
        SELECT m.id, m.occurred_at, m.external_ref, m.vendor_id
          FROM inventory_movements m
         WHERE m.id = r.movement_id
           AND m.occurred_at <= %(as_of)s::timestamptz
           AND m.status = 'posted'
           AND m.reverses_movement_id IS NULL
        OFFSET 0
       ) AS m
 CROSS JOIN LATERAL (
        -- the movement's lines, then their rows of this lot
        SELECT iml.quantity_delta, iml.uom, ml.location_id
          FROM inventory_movement_lines ml
          JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = ml.id
         WHERE ml.movement_id = m.id AND iml.lot_id = r.lot_id
        OFFSET 0
       ) AS k
  JOIN items i ON i.id = lots_in.item_id
  JOIN locations loc ON loc.id = k.location_id
  LEFT JOIN vendors v ON v.id = m.vendor_id
 ORDER BY m.occurred_at, lots_in.lot_code
