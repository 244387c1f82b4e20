-- Purpose: fill rates: per sales order line due in the window, the quantity shipped by its due
--          date, rolled up to every fill-rate dimension — read from the derived monthly sums
--          (kpi_line_fill_months, kpi_order_fill_months, migration 0032) for the whole months of
--          the window and from the line rows (sales_order_line_fills) only where the months cannot
--          answer. Same output, same values as fill_lines.sql (the line-by-line definition).
-- Parameters: first_due, end_due (date; due dates d with first_due <= d < end_due), first_full,
--             end_full (date; the window's whole months [first_full, end_full): first_full = the
--             first 1st of a month >= first_due, end_full = the 1st of end_due's month; see
--             runs.compute_params), as_of (timestamptz). Given as constants so that the planner
--             bounds the index ranges of the line reads (edge days, spanning orders).
-- Output: TEMP TABLE kpi_fill(dimensions, metric, num, den): item_line_fill_rate (sum of filled,
--         sum of ordered) and line_fill_rate (lines complete, lines) for {}, {"item_id"},
--         {"customer_id"}; order_fill_rate (orders complete, orders) for {}, {"customer_id"}.
-- Invariants (the definitions of fill_lines.sql: filled = shipped before the end of the due date,
--   capped at ordered; lines and shipments recorded after as_of ignored; canceled orders are not
--   demand; an order is complete when all its lines due in the window are):
--   * the window = its whole months [first_full, end_full) (empty when first_full >= end_full) and
--     its edge days [first_due, least(first_full, end_due)) and [greatest(end_full, first_full),
--     end_due);
--   * line figures per item / customer = the month buckets of the full months that are fresh (no
--     change after as_of: last_changed_at <= as_of, so their sums are the sums as of as_of), minus
--     the lines of canceled orders in them, plus the lines (as of as_of, canceled excluded) of
--     the edge days and of the stale buckets;
--   * orders per customer = the order buckets wholly inside the full months (first and last due
--     month in [first_full, end_full)) that are fresh, minus the canceled orders in them, plus the
--     orders grouped from their lines due in the window: those with a line on an edge day, those
--     spanning months across first_full or end_full (idx_sales_order_line_fills_spanning), and
--     those of stale buckets. The two sets are disjoint and together are every order with a line
--     due in the window;
--   * groups with no line due in the window are not output (as in fill_lines.sql).
-- Plan: a 12-month window of whole months reads ~260k bucket rows and the few month-spanning orders
--   at its two boundaries instead of 4.5M line rows (benchmark data).
-- lb and ob are NOT MATERIALIZED: each reference reads the bucket table itself (its filter pushed
-- into the scan: the stale buckets are a filter, the canceled lines' buckets a key lookup) instead
-- of one scan written to a tuplestore and read three times — backend CPU of the step about a
-- quarter less (scale 300: 83 vs 115 and 92 vs 123 ms, two runs; scale 100: 33 vs 40 ms), the
-- same rows (tests/kpis/test_fill_months.py).
WITH lb AS NOT MATERIALIZED (
    SELECT m.dimension, m.dimension_id, m.due_month, m.lines, m.lines_complete, m.ordered, m.filled,
           m.last_changed_at > %(as_of)s::timestamptz AS stale
      FROM kpi_line_fill_months m
     WHERE m.due_month >= %(first_full)s::date AND m.due_month < %(end_full)s::date
), ob AS NOT MATERIALIZED (
    SELECT o.customer_id, o.first_month, o.last_month, o.orders, o.orders_complete,
           o.last_changed_at > %(as_of)s::timestamptz AS stale
      FROM kpi_order_fill_months o
     WHERE o.first_month >= %(first_full)s::date AND o.last_month < %(end_full)s::date
), canceled AS MATERIALIZED (
    SELECT f.item_id, f.customer_id, f.quantity_ordered, f.filled_quantity, f.order_representative,
           f.order_complete, f.order_first_due, f.order_last_due,
           CAST(date_trunc('month', CAST(f.due_date AS timestamp)) AS date) AS due_month
      FROM sales_orders so
      JOIN sales_order_line_fills f ON f.sales_order_id = so.id
     WHERE so.status = 'canceled'
       AND f.due_date >= %(first_due)s::date AND f.due_date < %(end_due)s::date
), cand AS (
    -- line rows read one by one, and what each is needed for
    SELECT c.id, bool_or(c.for_item) AS for_item, bool_or(c.for_customer) AS for_customer,
           bool_or(c.for_orders) AS for_orders
      FROM (
            SELECT f.sales_order_line_id AS id, true AS for_item, true AS for_customer, true AS for_orders
              FROM sales_order_line_fills f
             WHERE f.due_date >= %(first_due)s::date AND f.due_date < least(%(first_full)s::date, %(end_due)s::date)
            UNION ALL
            SELECT f.sales_order_line_id, true, true, true
              FROM sales_order_line_fills f
             WHERE f.due_date >= greatest(%(end_full)s::date, %(first_full)s::date) AND f.due_date < %(end_due)s::date
            UNION ALL
            -- orders spanning months across a full-month boundary of the window
            SELECT f.sales_order_line_id, false, false, true
              FROM sales_order_line_fills f
             WHERE f.order_first_due < CAST(date_trunc('month', CAST(f.order_last_due AS timestamp)) AS date)
               AND f.due_date >= %(first_due)s::date AND f.due_date < %(end_due)s::date
               AND ((f.order_last_due >= %(first_full)s::date AND f.order_first_due < %(first_full)s::date)
                    OR (f.order_last_due >= %(end_full)s::date AND f.order_first_due < %(end_full)s::date))
            UNION ALL
            SELECT f.sales_order_line_id, lb.dimension = 'item', lb.dimension = 'customer', false
              FROM lb
              JOIN sales_order_line_fills f
                ON f.due_date >= lb.due_month AND f.due_date < CAST(lb.due_month + interval '1 month' AS date)
               AND ((lb.dimension = 'item' AND f.item_id = lb.dimension_id)
                    OR (lb.dimension = 'customer' AND f.customer_id = lb.dimension_id))
             WHERE lb.stale
            UNION ALL
            SELECT f.sales_order_line_id, false, false, true
              FROM ob
              JOIN sales_order_line_fills f
                ON f.due_date >= ob.first_month AND f.due_date < CAST(ob.last_month + interval '1 month' AS date)
               AND f.customer_id = ob.customer_id
               AND f.order_first_due >= ob.first_month
               AND f.order_first_due < CAST(ob.first_month + interval '1 month' AS date)
               AND f.order_last_due >= ob.last_month
               AND f.order_last_due < CAST(ob.last_month + interval '1 month' AS date)
             WHERE ob.stale
           ) c
     GROUP BY c.id
), l AS MATERIALIZED (
    -- those lines as of as_of (fill_lines.sql's f): the stored filled quantity, or, for a line
    -- with a shipment recorded after as_of, the quantity shipped by its due date as of as_of
    SELECT c.for_item, c.for_customer, c.for_orders, f.sales_order_id, f.customer_id, f.item_id,
           f.quantity_ordered AS ordered,
           CASE WHEN f.last_shipment_recorded_at IS NULL OR f.last_shipment_recorded_at <= %(as_of)s::timestamptz
                THEN f.filled_quantity
                ELSE (SELECT least(coalesce(sum(sl.quantity) FILTER (
                                       WHERE sh.created_at <= %(as_of)s::timestamptz
                                         AND sh.shipped_at < (CAST(f.due_date + 1 AS timestamp) AT TIME ZONE 'UTC')), 0),
                                   f.quantity_ordered)
                        FROM sales_order_shipment_lines sl
                        JOIN sales_order_shipments sh ON sh.id = sl.sales_order_shipment_id
                       WHERE sl.sales_order_line_id = f.sales_order_line_id) END AS filled
      FROM cand c
      JOIN sales_order_line_fills f ON f.sales_order_line_id = c.id
     WHERE f.recorded_at <= %(as_of)s::timestamptz
       AND NOT EXISTS (SELECT 1 FROM sales_orders so WHERE so.id = f.sales_order_id AND so.status = 'canceled')
), line_parts AS (
    -- (dimension, id, filled, ordered, lines complete, lines) contributions
    SELECT lb.dimension, lb.dimension_id, lb.filled, lb.ordered, lb.lines_complete, lb.lines
      FROM lb
     WHERE NOT lb.stale
    UNION ALL
    SELECT d.dimension, d.dimension_id, -c.filled_quantity, -c.quantity_ordered,
           -CAST(c.filled_quantity >= c.quantity_ordered AS integer), -1
      FROM canceled c
     CROSS JOIN LATERAL (VALUES ('item', c.item_id), ('customer', c.customer_id)) AS d(dimension, dimension_id)
      JOIN lb ON lb.dimension = d.dimension AND lb.dimension_id = d.dimension_id AND lb.due_month = c.due_month
     WHERE NOT lb.stale
    UNION ALL
    SELECT 'item', l.item_id, l.filled, l.ordered, CAST(l.filled >= l.ordered AS integer), 1
      FROM l
     WHERE l.for_item
    UNION ALL
    SELECT 'customer', l.customer_id, l.filled, l.ordered, CAST(l.filled >= l.ordered AS integer), 1
      FROM l
     WHERE l.for_customer
), lines_by AS (
    SELECT p.dimension, p.dimension_id, sum(p.filled) AS filled, sum(p.ordered) AS ordered,
           sum(p.lines_complete) AS lines_complete, sum(p.lines) AS lines
      FROM line_parts p
     GROUP BY p.dimension, p.dimension_id
    HAVING sum(p.lines) > 0
), order_parts AS (
    SELECT ob.customer_id, ob.orders_complete, ob.orders
      FROM ob
     WHERE NOT ob.stale
    UNION ALL
    SELECT c.customer_id, -CAST(c.order_complete AS integer), -1
      FROM canceled c
      JOIN ob ON ob.customer_id = c.customer_id
             AND ob.first_month = CAST(date_trunc('month', CAST(c.order_first_due AS timestamp)) AS date)
             AND ob.last_month = CAST(date_trunc('month', CAST(c.order_last_due AS timestamp)) AS date)
     WHERE c.order_representative AND NOT ob.stale
    UNION ALL
    SELECT o.customer_id, CAST(o.complete AS integer), 1
      FROM (SELECT l.sales_order_id, l.customer_id, bool_and(l.filled >= l.ordered) AS complete
              FROM l
             WHERE l.for_orders
             GROUP BY l.sales_order_id, l.customer_id) o
), orders_by AS (
    SELECT p.customer_id, sum(p.orders_complete) AS orders_complete, sum(p.orders) AS orders
      FROM order_parts p
     GROUP BY p.customer_id
), customers AS (
    SELECT c.dimension_id AS customer_id, c.filled, c.ordered, c.lines_complete, c.lines,
           coalesce(o.orders_complete, 0) AS orders_complete, coalesce(o.orders, 0) AS orders
      FROM lines_by c
      LEFT JOIN orders_by o ON o.customer_id = c.dimension_id
     WHERE c.dimension = 'customer'
), g AS (
    SELECT jsonb_build_object('item_id', i.dimension_id) AS dimensions, i.filled, i.ordered,
           CAST(i.lines_complete AS numeric) AS lines_complete, CAST(i.lines AS numeric) AS lines,
           CAST(NULL AS numeric) AS orders_complete, CAST(NULL AS numeric) AS orders
      FROM lines_by i
     WHERE i.dimension = 'item'
    UNION ALL
    SELECT jsonb_build_object('customer_id', c.customer_id), c.filled, c.ordered,
           CAST(c.lines_complete AS numeric), CAST(c.lines AS numeric),
           CAST(c.orders_complete AS numeric), CAST(c.orders AS numeric)
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
