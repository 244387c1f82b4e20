"""Phase 7 migration 3: work_order_lot_links (frozen spec DDL, executed verbatim).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/03_work_order_lot_links.sql")


def downgrade() -> None:
    op.execute("DROP TABLE work_order_lot_links")
