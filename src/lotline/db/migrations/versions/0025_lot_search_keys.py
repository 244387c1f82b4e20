"""Derived vendor-lot-code search keys for the console's lot search (table, trigger, backfill).

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
    run_sql("core/0025_lot_search_keys.sql")


def downgrade() -> None:
    op.execute("DROP TRIGGER trg_lot_search_keys ON inventory_balances")
    op.execute("DROP FUNCTION lot_search_keys_from_balances()")
    op.execute("DROP TABLE lot_search_keys")
