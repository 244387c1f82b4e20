-- Purpose: days.sql's output (TEMP TABLE kpi_days, same columns, same values) from the derived
--          ledger sums kpi_ledger_days instead of every ledger line — for windows of whole UTC
--          days (ws and we at 00:00 UTC), where window days are UTC days.
-- Parameters: ws, we (timestamptz at 00:00 UTC), as_of (timestamptz).
-- Output: kpi_days(item_id, location_id, day, q, qsec, q_out, outflow, scrapped), as in days.sql.
-- Invariants:
--   * qsec = sum(q_i * (we - t_i)) = sum(q_i) * epoch(we) - sum(q_i * epoch(t_i)): exact numeric
--     arithmetic, equal to days.sql's sum to the last digit;
--   * as_of stays exact: a bucket that holds a line recorded after as_of (last_recorded_at > as_of;
--     none when as_of is now) is read from its ledger lines instead, keeping only those recorded
--     at or before as_of — as sales_order_line_fills is corrected in fill.sql;
--   * q_out sums the decreasing lines (the increase = false rows), outflow the shipment and
--     production_consume rows, scrapped the scrap rows — the FILTERs of days.sql, bucket by bucket.
WITH stale AS MATERIALIZED (
    SELECT DISTINCT d.item_id, d.location_id, d.day
      FROM kpi_ledger_days d
     WHERE d.last_recorded_at > %(as_of)s::timestamptz
       AND d.day < CAST(%(we)s::timestamptz AT TIME ZONE 'UTC' AS date)
), sums AS (
    SELECT d.item_id, d.location_id, d.day, d.movement_type, d.increase, d.quantity, d.quantity_epoch
      FROM kpi_ledger_days d
     WHERE d.day < CAST(%(we)s::timestamptz AT TIME ZONE 'UTC' AS date)
       AND NOT EXISTS (SELECT 1 FROM stale s
                        WHERE s.item_id = d.item_id AND s.location_id = d.location_id AND s.day = d.day)
    UNION ALL
    SELECT l.item_id, l.location_id, s.day, l.movement_type, l.quantity_delta > 0, l.quantity_delta,
           l.quantity_delta * extract(epoch FROM l.occurred_at)
      FROM stale s
      JOIN inventory_movement_lines l
        ON l.item_id = s.item_id AND l.location_id = s.location_id
       AND l.occurred_at >= CAST(s.day AS timestamp) AT TIME ZONE 'UTC'
       AND l.occurred_at < CAST(s.day + 1 AS timestamp) AT TIME ZONE 'UTC'
     WHERE l.created_at <= %(as_of)s::timestamptz
)
SELECT x.item_id,
       x.location_id,
       CASE WHEN x.day < CAST(%(ws)s::timestamptz AT TIME ZONE 'UTC' AS date)
            THEN %(ws)s::timestamptz - interval '1 day'
            ELSE CAST(x.day AS timestamp) AT TIME ZONE 'UTC' END AS day,
       sum(x.quantity) AS q,
       sum(x.quantity) * extract(epoch FROM %(we)s::timestamptz) - sum(x.quantity_epoch) AS qsec,
       coalesce(sum(x.quantity) FILTER (WHERE NOT x.increase), 0) AS q_out,
       coalesce(-sum(x.quantity) FILTER (WHERE x.movement_type IN ('shipment', 'production_consume')), 0)
           AS outflow,
       coalesce(-sum(x.quantity) FILTER (WHERE x.movement_type = 'scrap'), 0) AS scrapped
  FROM sums x
 GROUP BY 1, 2, 3
