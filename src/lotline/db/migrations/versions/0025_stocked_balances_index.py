"""Stocked balance rows of an (item, location) found without reading its empty ones.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0025_stocked_balances_index.sql")


def downgrade() -> None:
    op.execute("DROP INDEX idx_inventory_balances_stocked")
