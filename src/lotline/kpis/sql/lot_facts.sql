-- Purpose: lot-based stock facts per (item, location): quantity that reached its expiry date while
--          on hand in the window, and stock held (lot quarantined or blocked) at the window end.
-- Parameters: :ws, :we, :as_of (timestamptz).
-- Output: TEMP TABLE kpi_lot_facts(item_id, location_id, expired_qty, held_qty).
-- Invariants:
--   * expired: lots with expires_at in [ws, we), their on-hand per location just before expires_at
--     (movements occurred < expires_at, recorded <= as_of); expiry does not move stock, so the same
--     stock stays in on-hand until it is scrapped (scrap is reported by movement type).
--   * held: on-hand at :we of lots whose status is quarantine or blocked. Lot status has no history
--     in the schema: it is the status when the run is computed (a published run freezes it).
CREATE TEMP TABLE kpi_lot_facts ON COMMIT DROP AS
WITH expired AS (
    SELECT x.item_id, x.location_id, sum(x.q) AS expired_qty
      FROM (
            SELECT l.item_id, l.location_id, ml.lot_id, sum(ml.quantity_delta) AS q
              FROM lots lo
              JOIN inventory_movement_lots ml ON ml.lot_id = lo.id
              JOIN inventory_movement_lines l ON l.id = ml.inventory_movement_line_id
              JOIN inventory_movements m ON m.id = l.movement_id
             WHERE lo.expires_at >= CAST(:ws AS timestamptz)
               AND lo.expires_at < CAST(:we AS timestamptz)
               AND lo.created_at <= CAST(:as_of AS timestamptz)
               AND m.created_at <= CAST(:as_of AS timestamptz)
               AND m.occurred_at < lo.expires_at
             GROUP BY l.item_id, l.location_id, ml.lot_id
           ) x
     WHERE x.q > 0
     GROUP BY x.item_id, x.location_id
), held AS (
    SELECT l.item_id, l.location_id, sum(ml.quantity_delta) AS held_qty
      FROM lots lo
      JOIN inventory_movement_lots ml ON ml.lot_id = lo.id
      JOIN inventory_movement_lines l ON l.id = ml.inventory_movement_line_id
      JOIN inventory_movements m ON m.id = l.movement_id
     WHERE lo.status IN ('quarantine', 'blocked')
       AND m.created_at <= CAST(:as_of AS timestamptz)
       AND m.occurred_at < CAST(:we AS timestamptz)
     GROUP BY l.item_id, l.location_id
)
SELECT coalesce(e.item_id, h.item_id) AS item_id,
       coalesce(e.location_id, h.location_id) AS location_id,
       coalesce(e.expired_qty, 0) AS expired_qty,
       greatest(coalesce(h.held_qty, 0), 0) AS held_qty
  FROM expired e
  FULL JOIN held h ON h.item_id = e.item_id AND h.location_id = e.location_id;
