"""Phase 7 migration 1: lots (frozen spec DDL, executed verbatim).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/01_lots.sql")


def downgrade() -> None:
    op.execute("DROP TABLE lots")
