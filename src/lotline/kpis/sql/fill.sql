-- Purpose: fill rates: per sales order line due in the window, the quantity shipped by its due
--          date, rolled up to every fill-rate dimension.
-- Parameters: :first_due, :end_due (date; due dates d with first_due <= d < end_due are the days
--             whose start, 00:00 UTC, lies in [ws, we)), :as_of (timestamptz).
-- Output: TEMP TABLE kpi_fill(dimensions, metric, num, den): item_line_fill_rate (sum of filled,
--         sum of ordered) and line_fill_rate (lines complete, lines) for {}, {"item_id"},
--         {"customer_id"}; order_fill_rate (orders complete, orders) for {}, {"customer_id"}.
-- Invariants:
--   * "shipped by due date" = shipped_at before the end of the due date (UTC); filled is capped
--     at the ordered quantity per line; a line is complete when filled = ordered; an order is
--     complete when all its lines due in the window are;
--   * order lines and shipments recorded after :as_of are ignored; canceled orders are not demand;
--   * the requested due_date is the commitment measured (promised_date is not used);
--   * per-line figures are exact sums of numeric(18,6) quantities, so coarser levels are sums.
-- Plan: reads the derived per-line fill state (sales_order_line_fills, defined by the view
--   sales_order_line_fills_source) instead of joining four tables and grouping per line. Its
--   filled_quantity counts every shipment recorded so far; the few lines with a shipment recorded
--   after :as_of (last_shipment_recorded_at > :as_of; none when as_of is now) are recomputed from
--   the shipments recorded by then, with the view's formula. The line CTE is inlined (NOT
--   MATERIALIZED) into two parallel aggregates: per item, and per order (orders complete, then
--   per customer); the overall row sums the per-customer rows.
WITH f AS NOT MATERIALIZED (
    SELECT f.sales_order_id,
           f.customer_id,
           f.item_id,
           f.quantity_ordered AS ordered,
           CASE WHEN f.last_shipment_recorded_at IS NULL
                  OR f.last_shipment_recorded_at <= CAST(:as_of AS timestamptz)
                THEN f.filled_quantity
                ELSE (SELECT least(coalesce(sum(sl.quantity), 0), f.quantity_ordered)
                        FROM sales_order_shipment_lines sl
                        JOIN sales_order_shipments sh ON sh.id = sl.sales_order_shipment_id
                       WHERE sl.sales_order_line_id = f.sales_order_line_id
                         AND sh.created_at <= CAST(:as_of AS timestamptz)
                         AND sh.shipped_at < (CAST(f.due_date + 1 AS timestamp) AT TIME ZONE 'UTC'))
           END AS filled
      FROM sales_order_line_fills f
     WHERE f.due_date >= CAST(:first_due AS date)
       AND f.due_date < CAST(:end_due AS date)
       AND f.recorded_at <= CAST(:as_of AS timestamptz)
       AND NOT EXISTS (SELECT 1 FROM sales_orders so WHERE so.id = f.sales_order_id AND so.status = 'canceled')
), by_item AS (
    SELECT jsonb_build_object('item_id', f.item_id) AS dimensions,
           sum(f.filled) AS filled,
           sum(f.ordered) AS ordered,
           count(*) FILTER (WHERE f.filled >= f.ordered) AS lines_complete,
           count(*) AS lines
      FROM f
     GROUP BY f.item_id
), by_order AS (
    SELECT f.customer_id,
           sum(f.filled) AS filled,
           sum(f.ordered) AS ordered,
           count(*) FILTER (WHERE f.filled >= f.ordered) AS lines_complete,
           count(*) AS lines,
           bool_and(f.filled >= f.ordered) AS complete
      FROM f
     GROUP BY f.sales_order_id, f.customer_id
), by_customer AS (
    SELECT jsonb_build_object('customer_id', o.customer_id) AS dimensions,
           sum(o.filled) AS filled,
           sum(o.ordered) AS ordered,
           sum(o.lines_complete) AS lines_complete,
           sum(o.lines) AS lines,
           count(*) FILTER (WHERE o.complete) AS orders_complete,
           count(*) AS orders
      FROM by_order o
     GROUP BY o.customer_id
), g AS (
    SELECT i.dimensions, i.filled, i.ordered, i.lines_complete, i.lines, NULL::bigint AS orders_complete,
           NULL::bigint AS orders
      FROM by_item i
    UNION ALL
    SELECT * FROM by_customer
    UNION ALL
    SELECT '{}'::jsonb, coalesce(sum(c.filled), 0), coalesce(sum(c.ordered), 0),
           coalesce(sum(c.lines_complete), 0), coalesce(sum(c.lines), 0),
           coalesce(sum(c.orders_complete), 0), coalesce(sum(c.orders), 0)
      FROM by_customer c
)
SELECT g.dimensions, v.metric, v.num, v.den
  FROM g
 CROSS JOIN LATERAL (VALUES
    ('item_line_fill_rate', g.filled, g.ordered),
    ('line_fill_rate', CAST(g.lines_complete AS numeric), CAST(g.lines AS numeric)),
    ('order_fill_rate', CAST(g.orders_complete AS numeric), CAST(g.orders AS numeric))
 ) AS v(metric, num, den)
 WHERE v.num IS NOT NULL
