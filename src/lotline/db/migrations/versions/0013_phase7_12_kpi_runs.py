"""Phase 7 migration 12: kpi_runs (frozen spec DDL, executed verbatim).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/12_kpi_runs.sql")


def downgrade() -> None:
    op.execute("DROP TABLE kpi_runs")
