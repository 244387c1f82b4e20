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
-- Plan: the joined shipment lines are sorted once by (order, customer, line) in parallel workers;
--   lines are grouped in that order, a window over the order (no second sort) marks each order's
--   first line and whether all its lines are complete, so orders are counted in the same small
--   hash aggregate as lines (item / customer / overall: ~20k groups) instead of a GROUPING SETS
--   level with one group per order (1.5M groups on the bench, which spilled to disk).
WITH lines AS (
    -- per order line due in the window: quantity shipped by the end of its due date (UTC)
    SELECT sol.sales_order_id,
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
     -- (sales_order_id, line_no) is unique: one group per line; this key order = the sort order
     GROUP BY sol.sales_order_id, so.customer_id, sol.line_no, sol.item_id, sol.quantity_ordered, sol.due_date
), x AS (
    -- per line: its figures; per order (window, input already sorted by order): first line, complete
    SELECT l.item_id, l.customer_id, l.ordered, least(l.shipped, l.ordered) AS filled,
           CASE WHEN l.shipped >= l.ordered THEN 1 ELSE 0 END AS complete,
           row_number() OVER o = 1 AS first_of_order,
           bool_and(l.shipped >= l.ordered) OVER o AS order_complete
      FROM lines l
    WINDOW o AS (PARTITION BY l.sales_order_id, l.customer_id)
), g AS (
    -- one pass: line figures per item, per customer and overall; orders per customer and overall
    SELECT CASE WHEN grouping(x.item_id) = 1 AND grouping(x.customer_id) = 1 THEN '{}'::jsonb
                WHEN grouping(x.customer_id) = 1 THEN jsonb_build_object('item_id', x.item_id)
                ELSE jsonb_build_object('customer_id', x.customer_id) END AS dimensions,
           grouping(x.item_id) = 1 AS by_order_too,
           coalesce(sum(x.filled), 0) AS filled,
           coalesce(sum(x.ordered), 0) AS ordered,
           coalesce(sum(x.complete), 0) AS lines_complete,
           count(*) AS lines,
           count(*) FILTER (WHERE x.first_of_order AND x.order_complete) AS orders_complete,
           count(*) FILTER (WHERE x.first_of_order) AS orders
      FROM x
     GROUP BY GROUPING SETS ((), (x.item_id), (x.customer_id))
)
SELECT g.dimensions, v.metric, v.num, v.den
  FROM g
 CROSS JOIN LATERAL (VALUES
    ('item_line_fill_rate', g.filled, g.ordered),
    ('line_fill_rate', CAST(g.lines_complete AS numeric), CAST(g.lines AS numeric)),
    ('order_fill_rate', CAST(g.orders_complete AS numeric), CAST(g.orders AS numeric))
 ) AS v(metric, num, den)
 WHERE v.metric <> 'order_fill_rate' OR g.by_order_too
