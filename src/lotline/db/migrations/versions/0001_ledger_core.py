"""Ledger core: items, locations, vendors, customers, movements, work orders, sales.

Revision ID: 0001
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0001_ledger_core.sql")


def downgrade() -> None:
    op.execute(
        "DROP TABLE sales_order_shipment_lines, sales_order_shipments, sales_order_lines, sales_orders, "
        "work_order_executions, work_orders, inventory_movement_lines, inventory_movements, "
        "customers, vendors, locations, items"
    )
