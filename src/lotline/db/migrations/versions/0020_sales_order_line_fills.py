"""Derived per-order-line fill state for fill-rate KPIs (table + defining view, backfilled).

Revision ID: 0020
Revises: 0019
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0020_sales_order_line_fills.sql")


def downgrade() -> None:
    op.execute("DROP VIEW sales_order_line_fills_source")
    op.execute("DROP TABLE sales_order_line_fills")
