-- Derived monthly fill sums for KPI runs (issue 11: a 12-month run read all 4.5M rows of
-- sales_order_line_fills several times, 6-8 s). A run over whole months reads these instead:
--
-- kpi_line_fill_months: per dimension ('item' or 'customer'), its id and the month of the line's
--   due date: lines, lines filled complete, sum ordered, sum filled, and the latest time a line in
--   it was recorded or got a shipment recorded (greatest(recorded_at, last_shipment_recorded_at)).
-- kpi_order_fill_months: per customer and (month of the order's first due date, month of its last
--   due date): orders, orders complete (counted from each order's representative line), and the
--   latest order_changed_at.
--
-- Invariants:
--   * each table equals the GROUP BY of sales_order_line_fills defined by its view (..._source) in
--     every transaction: statement-level triggers on sales_order_line_fills fold inserted (+),
--     deleted (-) and updated (old -, new +) rows into them in the writer's transaction (whatever
--     path writes the fill rows: the sales service's refresh, the generator, raw SQL); a TRUNCATE
--     empties them; a row whose count reaches 0 is deleted; the generator's checker proves it;
--   * last_changed_at is an upper bound (never lowered when rows go away): a run as of an earlier
--     time reads the buckets changed after it from the lines instead, so as_of stays exact;
--   * order status is not folded in (it can change without touching a fill row): a run subtracts
--     the lines of canceled orders (found through idx_sales_orders_canceled);
--   * each fold groups what the statement wrote so it touches a key once, in key order, so two
--     writers lock the rows they share in the same order.
-- idx_sales_order_line_fills_spanning finds the orders whose lines fall in two or more months
-- (an order straddling a window's month boundary is counted from its lines).
CREATE TABLE kpi_line_fill_months (
    dimension text NOT NULL CHECK (dimension IN ('item', 'customer')),
    dimension_id uuid NOT NULL,
    due_month date NOT NULL,
    lines bigint NOT NULL,
    lines_complete bigint NOT NULL,
    ordered numeric NOT NULL,
    filled numeric NOT NULL,
    last_changed_at timestamptz NOT NULL,
    PRIMARY KEY (dimension, dimension_id, due_month)
);

CREATE TABLE kpi_order_fill_months (
    customer_id uuid NOT NULL,
    first_month date NOT NULL,
    last_month date NOT NULL,
    orders bigint NOT NULL,
    orders_complete bigint NOT NULL,
    last_changed_at timestamptz NOT NULL,
    PRIMARY KEY (customer_id, first_month, last_month)
);

CREATE INDEX idx_sales_orders_canceled ON sales_orders (id) WHERE status = 'canceled';
CREATE INDEX idx_sales_order_line_fills_spanning ON sales_order_line_fills (order_last_due, order_first_due)
    WHERE order_first_due < CAST(date_trunc('month', CAST(order_last_due AS timestamp)) AS date);

CREATE VIEW kpi_line_fill_months_source AS
SELECT d.dimension,
       d.dimension_id,
       CAST(date_trunc('month', CAST(f.due_date AS timestamp)) AS date) AS due_month,
       count(*) AS lines,
       count(*) FILTER (WHERE f.filled_quantity >= f.quantity_ordered) AS lines_complete,
       sum(f.quantity_ordered) AS ordered,
       sum(f.filled_quantity) AS filled,
       max(greatest(f.recorded_at, f.last_shipment_recorded_at)) AS last_changed_at
  FROM sales_order_line_fills f
 CROSS JOIN LATERAL (VALUES ('item', f.item_id), ('customer', f.customer_id)) AS d(dimension, dimension_id)
 GROUP BY 1, 2, 3;

CREATE VIEW kpi_order_fill_months_source AS
SELECT f.customer_id,
       CAST(date_trunc('month', CAST(f.order_first_due AS timestamp)) AS date) AS first_month,
       CAST(date_trunc('month', CAST(f.order_last_due AS timestamp)) AS date) AS last_month,
       count(*) AS orders,
       count(*) FILTER (WHERE f.order_complete) AS orders_complete,
       max(f.order_changed_at) AS last_changed_at
  FROM sales_order_line_fills f
 WHERE f.order_representative
 GROUP BY 1, 2, 3;

-- One fold for the three events: x = the rows removed (s = -1) and added (s = +1) by the statement,
-- read from its transition tables. Static SQL in each branch (not EXECUTE): PL/pgSQL keeps the plans
-- per session, so a posting's fold is planned once per connection (dynamic SQL re-planned every
-- statement: ~6 ms per order + shipment under load).
CREATE FUNCTION kpi_fill_months_fold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO kpi_line_fill_months AS m
        SELECT d.dimension, d.dimension_id, CAST(date_trunc('month', CAST(x.due_date AS timestamp)) AS date),
               sum(x.s), coalesce(sum(x.s) FILTER (WHERE x.filled_quantity >= x.quantity_ordered), 0),
               sum(x.s * x.quantity_ordered), sum(x.s * x.filled_quantity),
               max(greatest(x.recorded_at, x.last_shipment_recorded_at))
          FROM (SELECT n.*, 1 AS s FROM fills_new n) x
         CROSS JOIN LATERAL (VALUES ('item', x.item_id), ('customer', x.customer_id)) AS d(dimension, dimension_id)
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (dimension, dimension_id, due_month) DO UPDATE
           SET lines = m.lines + EXCLUDED.lines,
               lines_complete = m.lines_complete + EXCLUDED.lines_complete,
               ordered = m.ordered + EXCLUDED.ordered,
               filled = m.filled + EXCLUDED.filled,
               last_changed_at = greatest(m.last_changed_at, EXCLUDED.last_changed_at);
        INSERT INTO kpi_order_fill_months AS m
        SELECT x.customer_id, CAST(date_trunc('month', CAST(x.order_first_due AS timestamp)) AS date),
               CAST(date_trunc('month', CAST(x.order_last_due AS timestamp)) AS date),
               sum(x.s), coalesce(sum(x.s) FILTER (WHERE x.order_complete), 0), max(x.order_changed_at)
          FROM (SELECT n.*, 1 AS s FROM fills_new n) x
         WHERE x.order_representative
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (customer_id, first_month, last_month) DO UPDATE
           SET orders = m.orders + EXCLUDED.orders,
               orders_complete = m.orders_complete + EXCLUDED.orders_complete,
               last_changed_at = greatest(m.last_changed_at, EXCLUDED.last_changed_at);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO kpi_line_fill_months AS m
        SELECT d.dimension, d.dimension_id, CAST(date_trunc('month', CAST(x.due_date AS timestamp)) AS date),
               sum(x.s), coalesce(sum(x.s) FILTER (WHERE x.filled_quantity >= x.quantity_ordered), 0),
               sum(x.s * x.quantity_ordered), sum(x.s * x.filled_quantity),
               max(greatest(x.recorded_at, x.last_shipment_recorded_at))
          FROM (SELECT o.*, -1 AS s FROM fills_old o UNION ALL SELECT n.*, 1 FROM fills_new n) x
         CROSS JOIN LATERAL (VALUES ('item', x.item_id), ('customer', x.customer_id)) AS d(dimension, dimension_id)
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (dimension, dimension_id, due_month) DO UPDATE
           SET lines = m.lines + EXCLUDED.lines,
               lines_complete = m.lines_complete + EXCLUDED.lines_complete,
               ordered = m.ordered + EXCLUDED.ordered,
               filled = m.filled + EXCLUDED.filled,
               last_changed_at = greatest(m.last_changed_at, EXCLUDED.last_changed_at);
        INSERT INTO kpi_order_fill_months AS m
        SELECT x.customer_id, CAST(date_trunc('month', CAST(x.order_first_due AS timestamp)) AS date),
               CAST(date_trunc('month', CAST(x.order_last_due AS timestamp)) AS date),
               sum(x.s), coalesce(sum(x.s) FILTER (WHERE x.order_complete), 0), max(x.order_changed_at)
          FROM (SELECT o.*, -1 AS s FROM fills_old o UNION ALL SELECT n.*, 1 FROM fills_new n) x
         WHERE x.order_representative
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (customer_id, first_month, last_month) DO UPDATE
           SET orders = m.orders + EXCLUDED.orders,
               orders_complete = m.orders_complete + EXCLUDED.orders_complete,
               last_changed_at = greatest(m.last_changed_at, EXCLUDED.last_changed_at);
        -- buckets the removed rows leave empty
        DELETE FROM kpi_line_fill_months m
         USING (SELECT DISTINCT d.dimension, d.dimension_id,
                       CAST(date_trunc('month', CAST(o.due_date AS timestamp)) AS date) AS due_month
                  FROM fills_old o
                 CROSS JOIN LATERAL (VALUES ('item', o.item_id), ('customer', o.customer_id)) AS d(dimension, dimension_id)) k
         WHERE m.dimension = k.dimension AND m.dimension_id = k.dimension_id AND m.due_month = k.due_month
           AND m.lines = 0;
        DELETE FROM kpi_order_fill_months m
         USING (SELECT DISTINCT o.customer_id,
                       CAST(date_trunc('month', CAST(o.order_first_due AS timestamp)) AS date) AS first_month,
                       CAST(date_trunc('month', CAST(o.order_last_due AS timestamp)) AS date) AS last_month
                  FROM fills_old o WHERE o.order_representative) k
         WHERE m.customer_id = k.customer_id AND m.first_month = k.first_month AND m.last_month = k.last_month
           AND m.orders = 0;
    ELSE
        INSERT INTO kpi_line_fill_months AS m
        SELECT d.dimension, d.dimension_id, CAST(date_trunc('month', CAST(x.due_date AS timestamp)) AS date),
               sum(x.s), coalesce(sum(x.s) FILTER (WHERE x.filled_quantity >= x.quantity_ordered), 0),
               sum(x.s * x.quantity_ordered), sum(x.s * x.filled_quantity),
               max(greatest(x.recorded_at, x.last_shipment_recorded_at))
          FROM (SELECT o.*, -1 AS s FROM fills_old o) x
         CROSS JOIN LATERAL (VALUES ('item', x.item_id), ('customer', x.customer_id)) AS d(dimension, dimension_id)
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (dimension, dimension_id, due_month) DO UPDATE
           SET lines = m.lines + EXCLUDED.lines,
               lines_complete = m.lines_complete + EXCLUDED.lines_complete,
               ordered = m.ordered + EXCLUDED.ordered,
               filled = m.filled + EXCLUDED.filled,
               last_changed_at = greatest(m.last_changed_at, EXCLUDED.last_changed_at);
        INSERT INTO kpi_order_fill_months AS m
        SELECT x.customer_id, CAST(date_trunc('month', CAST(x.order_first_due AS timestamp)) AS date),
               CAST(date_trunc('month', CAST(x.order_last_due AS timestamp)) AS date),
               sum(x.s), coalesce(sum(x.s) FILTER (WHERE x.order_complete), 0), max(x.order_changed_at)
          FROM (SELECT o.*, -1 AS s FROM fills_old o) x
         WHERE x.order_representative
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (customer_id, first_month, last_month) DO UPDATE
           SET orders = m.orders + EXCLUDED.orders,
               orders_complete = m.orders_complete + EXCLUDED.orders_complete,
               last_changed_at = greatest(m.last_changed_at, EXCLUDED.last_changed_at);
        -- buckets the removed rows leave empty
        DELETE FROM kpi_line_fill_months m
         USING (SELECT DISTINCT d.dimension, d.dimension_id,
                       CAST(date_trunc('month', CAST(o.due_date AS timestamp)) AS date) AS due_month
                  FROM fills_old o
                 CROSS JOIN LATERAL (VALUES ('item', o.item_id), ('customer', o.customer_id)) AS d(dimension, dimension_id)) k
         WHERE m.dimension = k.dimension AND m.dimension_id = k.dimension_id AND m.due_month = k.due_month
           AND m.lines = 0;
        DELETE FROM kpi_order_fill_months m
         USING (SELECT DISTINCT o.customer_id,
                       CAST(date_trunc('month', CAST(o.order_first_due AS timestamp)) AS date) AS first_month,
                       CAST(date_trunc('month', CAST(o.order_last_due AS timestamp)) AS date) AS last_month
                  FROM fills_old o WHERE o.order_representative) k
         WHERE m.customer_id = k.customer_id AND m.first_month = k.first_month AND m.last_month = k.last_month
           AND m.orders = 0;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION kpi_fill_months_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM kpi_line_fill_months;  -- not TRUNCATE: the same statement may be truncating them already
    DELETE FROM kpi_order_fill_months;
    RETURN NULL;
END $$;

CREATE TRIGGER kpi_fill_months_insert AFTER INSERT ON sales_order_line_fills
    REFERENCING NEW TABLE AS fills_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_fill_months_fold();
CREATE TRIGGER kpi_fill_months_update AFTER UPDATE ON sales_order_line_fills
    REFERENCING OLD TABLE AS fills_old NEW TABLE AS fills_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_fill_months_fold();
CREATE TRIGGER kpi_fill_months_delete AFTER DELETE ON sales_order_line_fills
    REFERENCING OLD TABLE AS fills_old FOR EACH STATEMENT EXECUTE FUNCTION kpi_fill_months_fold();
CREATE TRIGGER kpi_fill_months_truncate AFTER TRUNCATE ON sales_order_line_fills
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_fill_months_truncate();

INSERT INTO kpi_line_fill_months SELECT * FROM kpi_line_fill_months_source;
INSERT INTO kpi_order_fill_months SELECT * FROM kpi_order_fill_months_source;
