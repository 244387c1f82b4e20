-- Purpose: fill rates: per sales order line due in the window, the quantity shipped by its due
--          date, rolled up to every fill-rate dimension.
-- Parameters: first_due, end_due (date; due dates d with first_due <= d < end_due are the days
--             whose start, 00:00 UTC, lies in [ws, we)), as_of (timestamptz).
-- Output: TEMP TABLE kpi_fill(dimensions, metric, num, den): item_line_fill_rate (sum of filled,
--         sum of ordered) and line_fill_rate (lines complete, lines) for {}, {"item_id"},
--         {"customer_id"}; order_fill_rate (orders complete, orders) for {}, {"customer_id"}.
-- Invariants:
--   * "shipped by due date" = shipped_at before the end of the due date (UTC); filled is capped
--     at the ordered quantity per line; a line is complete when filled = ordered; an order is
--     complete when all its lines due in the window are;
--   * order lines and shipments recorded after as_of are ignored; canceled orders are not demand;
--   * the requested due_date is the commitment measured (promised_date is not used);
--   * per-line figures are exact sums of numeric(18,6) quantities, so coarser levels are sums.
-- Plan: reads the derived fill state (sales_order_line_fills, defined by the view
--   sales_order_line_fills_source, migration 0020) instead of joining four tables and grouping
--   per line and per order (12-15 s on 4.5M lines; this: a few parallel scans).
--   * f = the lines due in the window with their filled quantity as of as_of: the stored one, or,
--     for the few lines with a shipment recorded after as_of (none when as_of is now), the view's
--     formula over the shipments recorded by then. NOT MATERIALIZED: inlined into each aggregate,
--     which then runs in parallel workers.
--   * line figures: one aggregate per item, one per customer; overall = sum of the customers.
--   * orders: an order whose lines are all due in the window and that has not changed since
--     as_of is counted from its representative row (order_complete is then exactly "all its lines
--     due in the window complete as of as_of"); every other order with a line due in the window
--     (it straddles a window edge, or changed after as_of) is grouped from its lines in f.
--     The two sets are disjoint and together are every order with a line due in the window.
WITH f AS NOT MATERIALIZED (
    SELECT u.*
      FROM (
            SELECT f.sales_order_id, f.customer_id, f.item_id, f.quantity_ordered AS ordered,
                   f.filled_quantity AS filled, f.order_first_due, f.order_last_due, f.order_changed_at
              FROM sales_order_line_fills f
             WHERE f.due_date >= %(first_due)s::date
               AND f.due_date < %(end_due)s::date
               AND f.recorded_at <= %(as_of)s::timestamptz
               AND (f.last_shipment_recorded_at IS NULL
                    OR f.last_shipment_recorded_at <= %(as_of)s::timestamptz)
            UNION ALL
            SELECT f.sales_order_id, f.customer_id, f.item_id, f.quantity_ordered,
                   least(coalesce(sum(sl.quantity) FILTER (
                             WHERE sh.created_at <= %(as_of)s::timestamptz
                               AND sh.shipped_at < (CAST(f.due_date + 1 AS timestamp) AT TIME ZONE 'UTC')), 0),
                         f.quantity_ordered),
                   f.order_first_due, f.order_last_due, f.order_changed_at
              FROM sales_order_line_fills f
              JOIN sales_order_shipment_lines sl ON sl.sales_order_line_id = f.sales_order_line_id
              JOIN sales_order_shipments sh ON sh.id = sl.sales_order_shipment_id
             WHERE f.due_date >= %(first_due)s::date
               AND f.due_date < %(end_due)s::date
               AND f.recorded_at <= %(as_of)s::timestamptz
               AND f.last_shipment_recorded_at > %(as_of)s::timestamptz
             GROUP BY f.sales_order_line_id
           ) u
     WHERE NOT EXISTS (SELECT 1 FROM sales_orders so WHERE so.id = u.sales_order_id AND so.status = 'canceled')
), by_item AS (
    SELECT f.item_id,
           sum(f.filled) AS filled,
           sum(f.ordered) AS ordered,
           count(*) FILTER (WHERE f.filled >= f.ordered) AS lines_complete,
           count(*) AS lines
      FROM f
     GROUP BY f.item_id
), by_customer AS (
    SELECT f.customer_id,
           sum(f.filled) AS filled,
           sum(f.ordered) AS ordered,
           count(*) FILTER (WHERE f.filled >= f.ordered) AS lines_complete,
           count(*) AS lines
      FROM f
     GROUP BY f.customer_id
), whole_orders AS (
    SELECT f.customer_id,
           count(*) FILTER (WHERE f.order_complete) AS orders_complete,
           count(*) AS orders
      FROM sales_order_line_fills f
     WHERE f.order_representative
       AND f.order_first_due >= %(first_due)s::date
       AND f.order_last_due < %(end_due)s::date
       AND f.order_changed_at <= %(as_of)s::timestamptz
       AND NOT EXISTS (SELECT 1 FROM sales_orders so WHERE so.id = f.sales_order_id AND so.status = 'canceled')
     GROUP BY f.customer_id
), other_orders AS (
    SELECT o.customer_id,
           count(*) FILTER (WHERE o.complete) AS orders_complete,
           count(*) AS orders
      FROM (SELECT f.sales_order_id, f.customer_id, bool_and(f.filled >= f.ordered) AS complete
              FROM f
             WHERE NOT (f.order_first_due >= %(first_due)s::date
                        AND f.order_last_due < %(end_due)s::date
                        AND f.order_changed_at <= %(as_of)s::timestamptz)
             GROUP BY f.sales_order_id, f.customer_id) o
     GROUP BY o.customer_id
), customers AS (
    SELECT c.customer_id, c.filled, c.ordered, c.lines_complete, c.lines,
           coalesce(w.orders_complete, 0) + coalesce(x.orders_complete, 0) AS orders_complete,
           coalesce(w.orders, 0) + coalesce(x.orders, 0) AS orders
      FROM by_customer c
      LEFT JOIN whole_orders w ON w.customer_id = c.customer_id
      LEFT JOIN other_orders x ON x.customer_id = c.customer_id
), g AS (
    SELECT jsonb_build_object('item_id', i.item_id) AS dimensions, i.filled, i.ordered,
           CAST(i.lines_complete AS numeric) AS lines_complete, CAST(i.lines AS numeric) AS lines,
           CAST(NULL AS numeric) AS orders_complete, CAST(NULL AS numeric) AS orders
      FROM by_item i
    UNION ALL
    SELECT jsonb_build_object('customer_id', c.customer_id), c.filled, c.ordered, c.lines_complete, c.lines,
           c.orders_complete, c.orders
      FROM customers c
    UNION ALL
    SELECT '{}'::jsonb, coalesce(sum(c.filled), 0), coalesce(sum(c.ordered), 0),
           coalesce(sum(c.lines_complete), 0), coalesce(sum(c.lines), 0),
           coalesce(sum(c.orders_complete), 0), coalesce(sum(c.orders), 0)
      FROM customers c
)
SELECT g.dimensions, v.metric, v.num, v.den
  FROM g
 CROSS JOIN LATERAL (VALUES
    ('item_line_fill_rate', g.filled, g.ordered),
    ('line_fill_rate', g.lines_complete, g.lines),
    ('order_fill_rate', g.orders_complete, g.orders)
 ) AS v(metric, num, den)
 WHERE v.den IS NOT NULL
