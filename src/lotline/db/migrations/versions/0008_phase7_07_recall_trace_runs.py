"""Phase 7 migration 7: recall_trace_runs (frozen spec DDL, executed verbatim).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/07_recall_trace_runs.sql")


def downgrade() -> None:
    op.execute("DROP TABLE recall_trace_runs")
