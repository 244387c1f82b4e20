"""Derived vendor-lot-code search keys for the console's lot search (table, trigger, backfill).

Revision ID: 0027
Revises: 0026
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0027_lot_search_keys.sql")


def downgrade() -> None:
    op.execute("DROP TRIGGER trg_lot_search_keys ON inventory_balances")
    op.execute("DROP FUNCTION lot_search_keys_from_balances()")
    op.execute("DROP TABLE lot_search_keys")
