-- Invariant: the derived sales_order_line_fills table holds exactly its defining view
-- (sales_order_line_fills_source): one row per order line with its fill state.
-- Output: violations bigint, sample text
WITH bad AS (
    (SELECT * FROM sales_order_line_fills_source EXCEPT ALL SELECT * FROM sales_order_line_fills)
    UNION ALL
    (SELECT * FROM sales_order_line_fills EXCEPT ALL SELECT * FROM sales_order_line_fills_source)
)
SELECT count(*), string_agg(sales_order_line_id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT sales_order_line_id, row_number() OVER () AS rn FROM bad) b
