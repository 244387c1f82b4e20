"""Phase 7 migration 9: recall_impacted_lots (frozen spec DDL, executed verbatim).

Revision ID: 0010
Revises: 0009
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/09_recall_impacted_lots.sql")


def downgrade() -> None:
    op.execute("DROP TABLE recall_impacted_lots")
