"""Stocked balance rows of an (item, location) found without reading its empty ones.

Revision ID: 0029
Revises: 0028
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0029_stocked_balances_index.sql")


def downgrade() -> None:
    op.execute("DROP INDEX idx_inventory_balances_stocked")
