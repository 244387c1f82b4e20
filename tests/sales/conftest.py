import sqlalchemy as sa

from tests.worlds import w  # noqa: F401  (the shared small world)

# Rows where sales_order_line_fills and its defining view disagree (0 = the derived state is exact).
FILL_DRIFT = sa.text(
    "SELECT count(*) FROM ((SELECT * FROM sales_order_line_fills EXCEPT SELECT * FROM sales_order_line_fills_source)"
    " UNION ALL (SELECT * FROM sales_order_line_fills_source EXCEPT SELECT * FROM sales_order_line_fills)) d"
)
