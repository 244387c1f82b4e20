"""Phase 7 migration 14: kpi_rollup_inputs (frozen spec DDL, executed verbatim).

Revision ID: 0015
Revises: 0014
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/14_kpi_rollup_inputs.sql")


def downgrade() -> None:
    op.execute("DROP TABLE kpi_rollup_inputs")
