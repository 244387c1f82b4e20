"""Phase 7 migration 6: recall_case_targets (frozen spec DDL, executed verbatim).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/06_recall_case_targets.sql")


def downgrade() -> None:
    op.execute("DROP TABLE recall_case_targets")
