"""Phase 7 migration 11: recall_communications (frozen spec DDL, executed verbatim).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/11_recall_communications.sql")


def downgrade() -> None:
    op.execute("DROP TABLE recall_communications")
