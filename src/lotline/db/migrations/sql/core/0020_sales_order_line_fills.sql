-- Derived fill state per sales order line: how much of it was shipped by its due date.
-- Fill-rate KPIs read these narrow rows instead of joining sales_order_lines, sales_orders,
-- sales_order_shipment_lines and sales_order_shipments and grouping per line (measured on the
-- generated data set, 4.5M order lines due in a year: that join and grouping took 12-15 s).
--
-- The view sales_order_line_fills_source is the one definition of the derived figures: the migration
-- and the bulk generator fill the table from it, the shipping service refreshes the rows of the
-- lines it touches from it (same transaction as the shipment), and the generator's checker compares
-- table and view. Figures:
--   filled_quantity = min(quantity shipped before the end of the due date (00:00 UTC the next day),
--                     quantity ordered), over every shipment recorded so far;
--   recorded_at = when the order line was recorded (its created_at);
--   last_shipment_recorded_at = created_at of the line's latest shipment (any ship date), NULL if
--                     none: a KPI run as of an earlier time recomputes exactly the lines with a
--                     shipment recorded after its as_of from the shipments (kpis/sql/fill.sql).
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
    last_shipment_recorded_at timestamptz
);
CREATE INDEX idx_sales_order_line_fills_due ON sales_order_line_fills(due_date);

CREATE VIEW sales_order_line_fills_source AS
SELECT sol.id AS sales_order_line_id,
       sol.sales_order_id,
       so.customer_id,
       sol.item_id,
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
 GROUP BY sol.id, so.customer_id;

INSERT INTO sales_order_line_fills SELECT * FROM sales_order_line_fills_source;
