"""Index from a shipment to its shipment lines.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0018_shipment_lines_index.sql")


def downgrade() -> None:
    op.execute("DROP INDEX idx_sales_order_shipment_lines_shipment")
