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
--   * orders and shipments recorded after :as_of are ignored; canceled orders are not demand;
--   * the requested due_date is the commitment measured (promised_date is not used);
--   * per-line figures are exact sums of numeric(18,6) quantities, so coarser levels are sums.
WITH lines AS (
    -- per order line due in the window: quantity shipped by the end of its due date (UTC)
    SELECT so.id AS sales_order_id,
           so.customer_id,
           sol.item_id,
           sol.quantity_ordered AS ordered,
           coalesce(sum(sl.quantity) FILTER (
               WHERE sh.created_at <= CAST(:as_of AS timestamptz)
                 AND sh.shipped_at < (CAST(sol.due_date + 1 AS timestamp) AT TIME ZONE 'UTC')), 0) AS shipped
      FROM sales_order_lines sol
      JOIN sales_orders so ON so.id = sol.sales_order_id
      LEFT JOIN sales_order_shipment_lines sl ON sl.sales_order_line_id = sol.id
      LEFT JOIN sales_order_shipments sh ON sh.id = sl.sales_order_shipment_id
     WHERE sol.due_date >= CAST(:first_due AS date)
       AND sol.due_date < CAST(:end_due AS date)
       AND so.status <> 'canceled'
       AND so.created_at <= CAST(:as_of AS timestamptz)
     GROUP BY sol.id, so.id
), g AS (
    -- one pass over the lines: line figures per item, per customer and overall, and per order (for
    -- the order fill rate: an order is complete when all its lines due in the window are)
    SELECT grouping(x.item_id) AS g_item,
           grouping(x.customer_id) AS g_customer,
           grouping(x.sales_order_id) AS g_order,
           x.item_id,
           x.customer_id,
           coalesce(sum(x.filled), 0) AS filled,
           coalesce(sum(x.ordered), 0) AS ordered,
           coalesce(sum(x.complete), 0) AS lines_complete,
           count(*) FILTER (WHERE x.ordered IS NOT NULL) AS lines
      FROM (SELECT l.*, least(l.shipped, l.ordered) AS filled,
                   CASE WHEN l.shipped >= l.ordered THEN 1 ELSE 0 END AS complete
              FROM lines l) x
     GROUP BY GROUPING SETS ((), (x.item_id), (x.customer_id), (x.customer_id, x.sales_order_id))
), by_line AS (
    SELECT CASE WHEN g.g_item = 1 AND g.g_customer = 1 THEN '{}'::jsonb
                WHEN g.g_customer = 1 THEN jsonb_build_object('item_id', g.item_id)
                ELSE jsonb_build_object('customer_id', g.customer_id) END AS dimensions,
           g.filled, g.ordered, g.lines_complete, g.lines
      FROM g
     WHERE g.g_order = 1
), by_order AS (
    SELECT CASE WHEN grouping(o.customer_id) = 1 THEN '{}'::jsonb
                ELSE jsonb_build_object('customer_id', o.customer_id) END AS dimensions,
           count(*) FILTER (WHERE o.lines_complete = o.lines AND o.lines > 0) AS orders_complete,
           count(*) FILTER (WHERE o.lines > 0) AS orders
      FROM g o
     WHERE o.g_order = 0
     GROUP BY GROUPING SETS ((), (o.customer_id))
)
SELECT f.dimensions, v.metric, v.num, v.den
  FROM by_line f
 CROSS JOIN LATERAL (VALUES
    ('item_line_fill_rate', f.filled, f.ordered),
    ('line_fill_rate', CAST(f.lines_complete AS numeric), CAST(f.lines AS numeric))
 ) AS v(metric, num, den)
UNION ALL
SELECT o.dimensions, 'order_fill_rate', CAST(o.orders_complete AS numeric), CAST(o.orders AS numeric)
  FROM by_order o
