-- Purpose: per sales order line due in the window, the quantity shipped by its due date.
-- Parameters: :first_due, :end_due (date; due dates d with first_due <= d < end_due are the days
--             whose start, 00:00 UTC, lies in [ws, we)), :as_of (timestamptz).
-- Output: TEMP TABLE kpi_fill_lines(sales_order_line_id, sales_order_id, customer_id, item_id,
--         ordered, filled, complete).
-- Invariants:
--   * "shipped by due date" = shipped_at before the end of the due date (UTC); filled is capped
--     at the ordered quantity; complete = 1 when filled = ordered.
--   * orders and shipments recorded after :as_of are ignored; canceled orders are not demand.
--   * the requested due_date is the commitment measured (promised_date is not used).
CREATE TEMP TABLE kpi_fill_lines ON COMMIT DROP AS
SELECT x.sales_order_line_id,
       x.sales_order_id,
       x.customer_id,
       x.item_id,
       x.ordered,
       least(x.shipped_on_time, x.ordered) AS filled,
       CASE WHEN x.shipped_on_time >= x.ordered THEN 1 ELSE 0 END AS complete
  FROM (
        SELECT sol.id AS sales_order_line_id,
               so.id AS sales_order_id,
               so.customer_id,
               sol.item_id,
               sol.quantity_ordered AS ordered,
               coalesce(sum(sl.quantity)
                        FILTER (WHERE sh.shipped_at < (CAST(sol.due_date + 1 AS timestamp) AT TIME ZONE 'UTC')),
                        0) AS shipped_on_time
          FROM sales_order_lines sol
          JOIN sales_orders so ON so.id = sol.sales_order_id
          LEFT JOIN (sales_order_shipment_lines sl
                     JOIN sales_order_shipments sh
                       ON sh.id = sl.sales_order_shipment_id
                      AND sh.created_at <= CAST(:as_of AS timestamptz))
            ON sl.sales_order_line_id = sol.id
         WHERE sol.due_date >= CAST(:first_due AS date)
           AND sol.due_date < CAST(:end_due AS date)
           AND so.status <> 'canceled'
           AND so.created_at <= CAST(:as_of AS timestamptz)
         GROUP BY sol.id, so.id, so.customer_id, sol.item_id, sol.quantity_ordered
       ) x;
