"""Derived per-(item, location, UTC day, type, direction) ledger sums for KPI runs, kept by triggers.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0025_kpi_ledger_days.sql")


def downgrade() -> None:
    op.execute("DROP TRIGGER kpi_ledger_days_insert ON inventory_movement_lines")
    op.execute("DROP TRIGGER kpi_ledger_days_update ON inventory_movement_lines")
    op.execute("DROP TRIGGER kpi_ledger_days_delete ON inventory_movement_lines")
    op.execute("DROP TRIGGER kpi_ledger_days_truncate ON inventory_movement_lines")
    op.execute(
        "DROP FUNCTION kpi_ledger_days_fold_insert(), kpi_ledger_days_fold_update(), "
        "kpi_ledger_days_fold_delete(), kpi_ledger_days_truncate()"
    )
    op.execute("DROP VIEW kpi_ledger_days_source")
    op.execute("DROP TABLE kpi_ledger_days")
