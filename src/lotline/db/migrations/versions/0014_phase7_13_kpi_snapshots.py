"""Phase 7 migration 13: kpi_snapshots (frozen spec DDL, executed verbatim).

Revision ID: 0014
Revises: 0013
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/13_kpi_snapshots.sql")


def downgrade() -> None:
    op.execute("DROP TABLE kpi_snapshots")
