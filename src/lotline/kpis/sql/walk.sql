-- Purpose: exact clamped on-hand integral and the negative part, line by line, for the series that
--          may dip below zero (kpi_series.may_go_negative; untracked items, back-dated postings).
-- Parameters: ws, we, as_of (timestamptz).
-- Input: kpi_series. Output: TEMP TABLE kpi_walk(item_id, location_id, clamped_qty_seconds,
--        negative_qty_seconds). Only run when some series is flagged.
-- Invariants: on-hand is a step function: the level after all movements at t holds until the next
--   movement time (or we); a synthetic zero event at ws carries the opening level. Negative
--   levels count 0 in the clamped integral and are reported separately (never hidden).
WITH ev AS (
    SELECT e.item_id, e.location_id, e.t, sum(e.q) AS q
      FROM (
            SELECT l.item_id, l.location_id, l.occurred_at AS t, l.quantity_delta AS q
              FROM kpi_series s
              JOIN inventory_movement_lines l
                ON l.item_id = s.item_id AND l.location_id = s.location_id
             WHERE s.may_go_negative
               AND l.created_at <= %(as_of)s::timestamptz
               AND l.occurred_at >= %(ws)s::timestamptz
               AND l.occurred_at < %(we)s::timestamptz
            UNION ALL
            SELECT s.item_id, s.location_id, %(ws)s::timestamptz, 0
              FROM kpi_series s
             WHERE s.may_go_negative
           ) e
     GROUP BY e.item_id, e.location_id, e.t
), levels AS (
    SELECT ev.item_id,
           ev.location_id,
           s.opening + sum(ev.q) OVER w AS level,
           extract(epoch FROM coalesce(lead(ev.t) OVER w, %(we)s::timestamptz) - ev.t) AS secs
      FROM ev
      JOIN kpi_series s ON s.item_id = ev.item_id AND s.location_id = ev.location_id
    WINDOW w AS (PARTITION BY ev.item_id, ev.location_id ORDER BY ev.t)
)
SELECT item_id,
       location_id,
       sum(greatest(level, 0) * secs) AS clamped_qty_seconds,
       -sum(least(level, 0) * secs) AS negative_qty_seconds
  FROM levels
 GROUP BY item_id, location_id
