-- Derived fill state per sales order line (and of its order): how much was shipped by the due date.
-- Fill-rate KPIs read these narrow rows instead of joining sales_order_lines, sales_orders,
-- sales_order_shipment_lines and sales_order_shipments and grouping per line and per order
-- (measured on the generated data set, 4.5M order lines of 1.5M orders due in a year: that took
-- 12-15 s, most of it grouping per line and per order in one backend).
--
-- The view sales_order_line_fills_source is the one definition of the derived figures: the migration
-- and the bulk generator fill the table from it, the sales service refreshes the rows of an order
-- from it when the order is created or shipped (same transaction), and the generator's checker
-- compares table and view. Per line:
--   filled_quantity = min(quantity shipped before the end of the due date (00:00 UTC the next day),
--                     quantity ordered), over every shipment recorded so far;
--   recorded_at = when the order line was recorded (its created_at);
--   last_shipment_recorded_at = created_at of the line's latest shipment (any ship date), NULL if
--                     none: a KPI run as of an earlier time recomputes exactly the lines with a
--                     shipment recorded after its as_of from the shipments (kpis/sql/fill.sql).
-- Per order, repeated on each of its lines:
--   order_representative = this is the order's first line (lowest line_no): counts the order once;
--   order_first_due, order_last_due = earliest / latest due date of its lines;
--   order_complete = every line of the order is filled (filled_quantity = quantity_ordered);
--   order_changed_at = latest recorded_at / last_shipment_recorded_at of its lines.
-- An order whose lines are all due in a KPI window and unchanged since the run's as_of is counted
-- from its representative row alone; other orders are grouped from their lines in the window.
-- Order status is not copied (it can change); runs read it from sales_orders.
CREATE TABLE sales_order_line_fills (
    sales_order_line_id uuid PRIMARY KEY REFERENCES sales_order_lines(id) ON DELETE CASCADE,
    sales_order_id uuid NOT NULL REFERENCES sales_orders(id) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers(id),
    item_id uuid NOT NULL REFERENCES items(id),
    due_date date NOT NULL,
    quantity_ordered numeric(18,6) NOT NULL CHECK (quantity_ordered > 0),
    filled_quantity numeric(18,6) NOT NULL CHECK (filled_quantity >= 0 AND filled_quantity <= quantity_ordered),
    recorded_at timestamptz NOT NULL,
    last_shipment_recorded_at timestamptz,
    order_representative boolean NOT NULL,
    order_first_due date NOT NULL,
    order_last_due date NOT NULL,
    order_complete boolean NOT NULL,
    order_changed_at timestamptz NOT NULL
);
CREATE INDEX idx_sales_order_line_fills_due ON sales_order_line_fills(due_date);
CREATE INDEX idx_sales_order_line_fills_order ON sales_order_line_fills(sales_order_id);
-- finds the lines a KPI run as of an earlier time must recompute (usually none)
CREATE INDEX idx_sales_order_line_fills_last_shipment ON sales_order_line_fills(last_shipment_recorded_at);

CREATE VIEW sales_order_line_fills_source AS
WITH line AS (
    SELECT sol.id AS sales_order_line_id,
           sol.sales_order_id,
           so.customer_id,
           sol.item_id,
           sol.line_no,
           sol.due_date,
           sol.quantity_ordered,
           least(coalesce(sum(sl.quantity) FILTER (
                     WHERE sh.shipped_at < (CAST(sol.due_date + 1 AS timestamp) AT TIME ZONE 'UTC')), 0),
                 sol.quantity_ordered) AS filled_quantity,
           sol.created_at AS recorded_at,
           max(sh.created_at) AS last_shipment_recorded_at
      FROM sales_order_lines sol
      JOIN sales_orders so ON so.id = sol.sales_order_id
      LEFT JOIN sales_order_shipment_lines sl ON sl.sales_order_line_id = sol.id
      LEFT JOIN sales_order_shipments sh ON sh.id = sl.sales_order_shipment_id
     GROUP BY sol.id, so.customer_id
)
SELECT line.sales_order_line_id,
       line.sales_order_id,
       line.customer_id,
       line.item_id,
       line.due_date,
       line.quantity_ordered,
       line.filled_quantity,
       line.recorded_at,
       line.last_shipment_recorded_at,
       line.line_no = min(line.line_no) OVER o AS order_representative,
       min(line.due_date) OVER o AS order_first_due,
       max(line.due_date) OVER o AS order_last_due,
       bool_and(line.filled_quantity = line.quantity_ordered) OVER o AS order_complete,
       greatest(max(line.recorded_at) OVER o, max(line.last_shipment_recorded_at) OVER o) AS order_changed_at
  FROM line
WINDOW o AS (PARTITION BY line.sales_order_id);

INSERT INTO sales_order_line_fills SELECT * FROM sales_order_line_fills_source;
