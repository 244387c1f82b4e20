"""Phase 7 migration 5: recall_cases (frozen spec DDL, executed verbatim).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/05_recall_cases.sql")


def downgrade() -> None:
    op.execute("DROP TABLE recall_cases")
