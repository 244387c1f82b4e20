-- Purpose: per (item, location) series: opening, closing, the one-pass on-hand integral, outflow,
--          scrap, stock-out and negative-stock days, and whether the series may dip below zero.
-- Parameters: ws (timestamptz), window_seconds (numeric), window_days (numeric, may be
--             fractional), n_days (integer, ceil(window_days)).
-- Input: kpi_days, items.lot_tracked. Output: TEMP TABLE kpi_series.
-- Invariants:
--   * on-hand integral (qty x seconds) = opening * window + sum(q_i * (we - t_i)): exact whenever the
--     series never goes below zero;
--   * stock-out / negative day = a window day whose closing on-hand (end of the day) is <= 0 / < 0;
--     a day's end level holds until the next day with movements; the last day of a window that is
--     not a whole number of days counts its fraction; days before a series' first line are at 0;
--   * may_go_negative: a day ends below zero, or (untracked items only) a day could dip below zero
--     (level at its start + its decreases < 0). Lot-tracked series are sums of lots, which posting
--     never lets go below zero, so their one-pass integral is already the clamped one. Flagged
--     series are walked line by line (walk.sql).
WITH d AS (
    SELECT kd.*,
           kd.day < %(ws)s::timestamptz AS opening_row,
           CASE WHEN kd.day < %(ws)s::timestamptz THEN -1
                ELSE CAST(round(extract(epoch FROM kd.day - %(ws)s::timestamptz) / 86400) AS integer)
           END AS k
      FROM kpi_days kd
), lv AS (
    SELECT d.*,
           sum(d.q) OVER w AS level_end,
           sum(d.q) OVER w - d.q AS level_start,
           least(coalesce(lead(d.k) OVER w, %(n_days)s::integer), %(window_days)s::numeric)
               - greatest(d.k, 0) AS span_days
      FROM d
    WINDOW w AS (PARTITION BY d.item_id, d.location_id ORDER BY d.k)
)
SELECT lv.item_id,
       lv.location_id,
       coalesce(sum(lv.q) FILTER (WHERE lv.opening_row), 0) AS opening,
       sum(lv.q) AS closing,
       coalesce(sum(lv.q) FILTER (WHERE lv.opening_row), 0) * %(window_seconds)s::numeric
           + coalesce(sum(lv.qsec) FILTER (WHERE NOT lv.opening_row), 0) AS unclamped_qty_seconds,
       coalesce(sum(lv.outflow) FILTER (WHERE NOT lv.opening_row), 0) AS outflow,
       coalesce(sum(lv.scrapped) FILTER (WHERE NOT lv.opening_row), 0) AS scrapped,
       coalesce(sum(lv.span_days) FILTER (WHERE lv.level_end <= 0), 0)
           + CASE WHEN min(lv.k) >= 0 THEN min(lv.k) ELSE 0 END AS stockout_days,
       coalesce(sum(lv.span_days) FILTER (WHERE lv.level_end < 0), 0) AS negative_days,
       bool_or(lv.level_end < 0
               OR (NOT i.lot_tracked AND NOT lv.opening_row AND lv.level_start + lv.q_out < 0))
           AS may_go_negative
  FROM lv
  JOIN items i ON i.id = lv.item_id
 GROUP BY lv.item_id, lv.location_id
