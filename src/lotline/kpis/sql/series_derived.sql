-- Purpose: series.sql's output (TEMP TABLE kpi_series, same columns, same values) from the derived
--          per-day ledger sums kpi_ledger_days — for windows of whole UTC days (ws and we at
--          00:00 UTC), where window days are UTC days.
-- Parameters: ws, we (timestamptz at 00:00 UTC), as_of (timestamptz), window_seconds (numeric),
--             window_days (numeric, whole), n_days (integer, = window_days).
-- Input: kpi_ledger_days, inventory_movement_lines (stale buckets only), items.lot_tracked.
-- Output: kpi_series(item_id, location_id, opening, closing, unclamped_qty_seconds, outflow,
--   scrapped, stockout_days, negative_days, may_go_negative), as series.sql over days_derived.sql.
-- Why a statement of its own (series.sql over days_derived.sql computed the same rows): that one
--   anti-joined the buckets to the stale ones, turned every day into a timestamptz and back into
--   a day number, materialized the per-day rows and re-summed them per series; here the per-day
--   sums are grouped by the bucket key itself (a stale bucket dropped by HAVING), days stay dates
--   (k = day - ws), and the per-series sums come from the per-day rows once: a fifth less backend
--   CPU on the scale-100 data (numeric sums are the cost).
-- Invariants (those of series.sql and days_derived.sql):
--   * unclamped integral = opening * window + epoch(we) * sum(q) - sum(quantity_epoch) over the
--     window days: exact numeric arithmetic, the same number as the per-day qsec sums of
--     days_derived.sql;
--   * as_of stays exact: a bucket that holds a line recorded after as_of (last_recorded_at >
--     as_of) is read from its ledger lines instead, only those recorded at or before as_of;
--   * days before ws are not collapsed into one opening row: only the last of them carries the
--     opening level to the first window day (span_days), the others hold for no window day and
--     their levels are not the opening level (may_go_negative); stock-out / negative days and
--     may_go_negative are otherwise series.sql's definitions.
WITH stale AS MATERIALIZED (
    SELECT DISTINCT d.item_id, d.location_id, d.day
      FROM kpi_ledger_days d
     WHERE d.last_recorded_at > %(as_of)s::timestamptz
       AND d.day < CAST(%(we)s::timestamptz AT TIME ZONE 'UTC' AS date)
), b AS (
    SELECT d.item_id,
           d.location_id,
           d.day,
           sum(d.quantity) AS q,
           sum(d.quantity_epoch) AS q_epoch,
           coalesce(sum(d.quantity) FILTER (WHERE NOT d.increase), 0) AS q_out,
           coalesce(-sum(d.quantity) FILTER (WHERE d.movement_type IN ('shipment', 'production_consume')), 0)
               AS outflow,
           coalesce(-sum(d.quantity) FILTER (WHERE d.movement_type = 'scrap'), 0) AS scrapped
      FROM kpi_ledger_days d
     WHERE d.day < CAST(%(we)s::timestamptz AT TIME ZONE 'UTC' AS date)
     GROUP BY d.item_id, d.location_id, d.day
    HAVING NOT bool_or(d.last_recorded_at > %(as_of)s::timestamptz)
    UNION ALL
    SELECT s.item_id, s.location_id, s.day,
           sum(l.quantity_delta),
           sum(l.quantity_delta * extract(epoch FROM l.occurred_at)),
           coalesce(sum(l.quantity_delta) FILTER (WHERE l.quantity_delta <= 0), 0),
           coalesce(-sum(l.quantity_delta) FILTER (WHERE l.movement_type IN ('shipment', 'production_consume')), 0),
           coalesce(-sum(l.quantity_delta) FILTER (WHERE l.movement_type = 'scrap'), 0)
      FROM stale s
      JOIN inventory_movement_lines l
        ON l.item_id = s.item_id AND l.location_id = s.location_id
       AND l.occurred_at >= CAST(s.day AS timestamp) AT TIME ZONE 'UTC'
       AND l.occurred_at < CAST(s.day + 1 AS timestamp) AT TIME ZONE 'UTC'
     WHERE l.created_at <= %(as_of)s::timestamptz
     GROUP BY s.item_id, s.location_id, s.day
), lv AS (
    SELECT x.*,
           x.day - CAST(%(ws)s::timestamptz AT TIME ZONE 'UTC' AS date) AS k,
           sum(x.q) OVER w AS level_end,
           sum(x.q) OVER w - x.q AS level_start,
           lead(x.day) OVER w - CAST(%(ws)s::timestamptz AT TIME ZONE 'UTC' AS date) AS next_k
      FROM b x
    WINDOW w AS (PARTITION BY x.item_id, x.location_id ORDER BY x.day)
), sp AS (
    -- span_days: the days a day's closing level holds (to the next day with movements, or the
    -- window end); a pre-window day followed by another pre-window day holds for none inside
    SELECT lv.*,
           greatest(least(coalesce(lv.next_k, %(n_days)s::integer), %(window_days)s::numeric), 0)
               - greatest(lv.k, 0) AS span_days
      FROM lv
)
SELECT lv.item_id,
       lv.location_id,
       coalesce(sum(lv.q) FILTER (WHERE lv.k < 0), 0) AS opening,
       sum(lv.q) AS closing,
       coalesce(sum(lv.q) FILTER (WHERE lv.k < 0), 0) * %(window_seconds)s::numeric
           + coalesce(sum(lv.q) FILTER (WHERE lv.k >= 0), 0) * extract(epoch FROM %(we)s::timestamptz)
           - coalesce(sum(lv.q_epoch) FILTER (WHERE lv.k >= 0), 0) AS unclamped_qty_seconds,
       coalesce(sum(lv.outflow) FILTER (WHERE lv.k >= 0), 0) AS outflow,
       coalesce(sum(lv.scrapped) FILTER (WHERE lv.k >= 0), 0) AS scrapped,
       coalesce(sum(lv.span_days) FILTER (WHERE lv.level_end <= 0), 0)
           + CASE WHEN min(lv.k) >= 0 THEN min(lv.k) ELSE 0 END AS stockout_days,
       coalesce(sum(lv.span_days) FILTER (WHERE lv.level_end < 0), 0) AS negative_days,
       -- a pre-window level counts only as the opening level (the last pre-window day's)
       bool_or((lv.level_end < 0 AND (lv.k >= 0 OR coalesce(lv.next_k, 0) >= 0))
               OR (NOT i.lot_tracked AND lv.k >= 0 AND lv.level_start + lv.q_out < 0)) AS may_go_negative
  FROM sp lv
  JOIN items i ON i.id = lv.item_id
 GROUP BY lv.item_id, lv.location_id
