"""Balance rows know their latest ledger time, so only back-dated postings read the ledger.

Revision ID: 0021
Revises: 0020
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0021_balance_last_occurred_at.sql")


def downgrade() -> None:
    op.execute("ALTER TABLE inventory_balances DROP COLUMN last_occurred_at")
