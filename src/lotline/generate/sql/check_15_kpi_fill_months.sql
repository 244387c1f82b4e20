-- Invariant: the derived kpi_line_fill_months and kpi_order_fill_months tables hold exactly the
-- sums of their defining views (kpi_line_fill_months_source, kpi_order_fill_months_source, migration
-- 0032) per bucket, and their last_changed_at is never earlier than the bucket's latest change (an
-- upper bound: a removed fill row does not lower it).
-- Output: violations bigint, sample text
WITH bad AS (
    (SELECT dimension || ' ' || dimension_id || ' ' || due_month AS bucket, lines, lines_complete, ordered, filled
       FROM kpi_line_fill_months_source
     EXCEPT ALL
     SELECT dimension || ' ' || dimension_id || ' ' || due_month, lines, lines_complete, ordered, filled
       FROM kpi_line_fill_months)
    UNION ALL
    (SELECT dimension || ' ' || dimension_id || ' ' || due_month, lines, lines_complete, ordered, filled
       FROM kpi_line_fill_months
     EXCEPT ALL
     SELECT dimension || ' ' || dimension_id || ' ' || due_month, lines, lines_complete, ordered, filled
       FROM kpi_line_fill_months_source)
    UNION ALL
    SELECT m.dimension || ' ' || m.dimension_id || ' ' || m.due_month, m.lines, m.lines_complete, m.ordered, m.filled
      FROM kpi_line_fill_months m
      JOIN kpi_line_fill_months_source s USING (dimension, dimension_id, due_month)
     WHERE m.last_changed_at < s.last_changed_at
    UNION ALL
    (SELECT 'orders ' || customer_id || ' ' || first_month || '..' || last_month, orders, orders_complete, NULL::numeric, NULL::numeric
       FROM kpi_order_fill_months_source
     EXCEPT ALL
     SELECT 'orders ' || customer_id || ' ' || first_month || '..' || last_month, orders, orders_complete, NULL::numeric, NULL::numeric
       FROM kpi_order_fill_months)
    UNION ALL
    (SELECT 'orders ' || customer_id || ' ' || first_month || '..' || last_month, orders, orders_complete, NULL::numeric, NULL::numeric
       FROM kpi_order_fill_months
     EXCEPT ALL
     SELECT 'orders ' || customer_id || ' ' || first_month || '..' || last_month, orders, orders_complete, NULL::numeric, NULL::numeric
       FROM kpi_order_fill_months_source)
    UNION ALL
    SELECT 'orders ' || m.customer_id || ' ' || m.first_month || '..' || m.last_month, m.orders, m.orders_complete, NULL::numeric, NULL::numeric
      FROM kpi_order_fill_months m
      JOIN kpi_order_fill_months_source s USING (customer_id, first_month, last_month)
     WHERE m.last_changed_at < s.last_changed_at
)
SELECT count(*), string_agg(bucket, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT bucket, row_number() OVER () AS rn FROM bad) b
