-- Purpose: the one pass over the ledger: per (item, location) series and window day, the sums every
--          inventory KPI is built from.
-- Parameters: ws, we (timestamptz, half-open window [ws, we)), as_of (timestamptz).
-- Output: TEMP TABLE kpi_days(item_id, location_id, day, q, qsec, q_out, outflow, scrapped):
--   day = ws - 1 day collects every line before ws (the opening balance); otherwise the start of the
--   window day (24 hours from ws + k days) the line falls in. q = net quantity, qsec =
--   sum(q * seconds until we) (the one-pass on-hand integral), q_out = sum of decreases (for the
--   negative-stock bound), outflow (shipments + production consumption) and scrapped as positive
--   quantities. qsec/q_out/outflow/scrapped of the opening row are not used (series.sql).
-- Invariants:
--   * only movements recorded (created_at) at or before as_of count, so a rerun with the same
--     as_of sees the same ledger; movement status is ignored (a reversal is its own movement, so a
--     reversed pair nets out from the reversal's time on);
--   * a movement at exactly ws is inside the window (day 0), one at exactly we is outside;
--   * a plain (parallel) hash aggregate, no sort of the ledger; date_bin keeps day boundaries exact;
--   * reads the lines alone: they carry their movement's occurred_at, movement_type and created_at
--     (migration 0019), so a year of ledger is one scan, not a join of 11M lines to 4.6M movements.
SELECT l.item_id,
       l.location_id,
       d.day,
       sum(l.quantity_delta) AS q,
       sum(l.quantity_delta * extract(epoch FROM %(we)s::timestamptz - l.occurred_at)) AS qsec,
       coalesce(sum(l.quantity_delta) FILTER (WHERE l.quantity_delta < 0), 0) AS q_out,
       coalesce(-sum(l.quantity_delta) FILTER (WHERE l.movement_type IN ('shipment', 'production_consume')), 0)
           AS outflow,
       coalesce(-sum(l.quantity_delta) FILTER (WHERE l.movement_type = 'scrap'), 0) AS scrapped
  FROM inventory_movement_lines l
  -- the day table carries no information the CASE does not; it tells the planner how few groups
  -- there are (series x days, not one per movement time), so it aggregates in parallel workers
  JOIN generate_series(%(ws)s::timestamptz - interval '1 day', %(we)s::timestamptz - interval '1 microsecond',
                       interval '1 day') AS d(day)
    ON d.day = CASE WHEN l.occurred_at < %(ws)s::timestamptz THEN %(ws)s::timestamptz - interval '1 day'
                    ELSE date_bin(interval '1 day', l.occurred_at, %(ws)s::timestamptz) END
 WHERE l.created_at <= %(as_of)s::timestamptz
   AND l.occurred_at < %(we)s::timestamptz
 GROUP BY 1, 2, 3
