"""Phase 7 migration 10: recall_actions (frozen spec DDL, executed verbatim).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/10_recall_actions.sql")


def downgrade() -> None:
    op.execute("DROP TABLE recall_actions")
