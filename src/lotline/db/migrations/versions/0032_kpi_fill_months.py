"""Derived monthly fill sums for KPI runs (per item / customer and due month; orders per customer), kept by triggers.

Revision ID: 0032
Revises: 0031
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0032_kpi_fill_months.sql")


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER kpi_fill_months_{event} ON sales_order_line_fills")
    op.execute("DROP FUNCTION kpi_fill_months_fold(), kpi_fill_months_truncate()")
    op.execute("DROP VIEW kpi_line_fill_months_source, kpi_order_fill_months_source")
    op.execute("DROP TABLE kpi_line_fill_months, kpi_order_fill_months")
    op.execute("DROP INDEX idx_sales_orders_canceled, idx_sales_order_line_fills_spanning")
