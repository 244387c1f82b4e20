-- Purpose: one pass over the ledger -> per (item, location) series facts for a KPI window.
-- Parameters: :ws, :we (timestamptz, half-open window [ws, we)), :as_of (timestamptz),
--             :window_seconds (numeric, we - ws in seconds).
-- Output: TEMP TABLE kpi_series(item_id, location_id, opening, closing, unclamped_qty_seconds,
--         outflow, scrapped, may_touch_zero).
-- Invariants:
--   * only movements recorded (created_at) at or before :as_of count, so a rerun with the same
--     as_of sees the same ledger; movement status is ignored (a reversal is its own movement, so
--     reversed pairs net out at the right times).
--   * the on-hand integral is the one-pass form opening*(we-ws) + sum(q_i*(we-t_i)), exact when the
--     series never goes below zero. may_touch_zero marks the series whose on-hand could reach <= 0
--     in the window (opening + every in-window decrease <= 0); only those are walked (walk.sql).
--   * a movement at exactly :ws is inside the window, one at exactly :we is outside.
CREATE TEMP TABLE kpi_series ON COMMIT DROP AS
SELECT f.item_id,
       f.location_id,
       f.opening,
       f.closing,
       f.opening * CAST(:window_seconds AS numeric) + f.window_qty_seconds AS unclamped_qty_seconds,
       f.outflow,
       f.scrapped,
       (f.opening + f.window_out <= 0) AS may_touch_zero
  FROM (
        SELECT l.item_id,
               l.location_id,
               coalesce(sum(l.quantity_delta) FILTER (WHERE m.occurred_at < CAST(:ws AS timestamptz)), 0)
                   AS opening,
               sum(l.quantity_delta) AS closing,
               coalesce(sum(l.quantity_delta
                            * extract(epoch FROM CAST(:we AS timestamptz) - m.occurred_at))
                        FILTER (WHERE m.occurred_at >= CAST(:ws AS timestamptz)), 0) AS window_qty_seconds,
               coalesce(sum(l.quantity_delta)
                        FILTER (WHERE m.occurred_at >= CAST(:ws AS timestamptz) AND l.quantity_delta < 0), 0)
                   AS window_out,
               coalesce(-sum(l.quantity_delta)
                        FILTER (WHERE m.occurred_at >= CAST(:ws AS timestamptz)
                                  AND m.movement_type IN ('shipment', 'production_consume')), 0) AS outflow,
               coalesce(-sum(l.quantity_delta)
                        FILTER (WHERE m.occurred_at >= CAST(:ws AS timestamptz)
                                  AND m.movement_type = 'scrap'), 0) AS scrapped
          FROM inventory_movement_lines l
          JOIN inventory_movements m ON m.id = l.movement_id
         WHERE m.created_at <= CAST(:as_of AS timestamptz)
           AND m.occurred_at < CAST(:we AS timestamptz)
         GROUP BY l.item_id, l.location_id
       ) f;
