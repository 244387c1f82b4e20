"""Derived scrap lot rows for KPI runs (expiry write-offs without probing the ledger), kept by triggers.

Revision ID: 0034
Revises: 0033
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0034_kpi_scrap_lots.sql")


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER kpi_scrap_lots_{event} ON inventory_movement_lots")
    op.execute("DROP TRIGGER kpi_scrap_lots_line_update ON inventory_movement_lines")
    op.execute("DROP TRIGGER kpi_scrap_lots_lot_update ON lots")
    op.execute(
        "DROP FUNCTION kpi_scrap_lots_fold_insert(), kpi_scrap_lots_fold_update(), kpi_scrap_lots_fold_delete(), "
        "kpi_scrap_lots_truncate(), kpi_scrap_lots_line_update(), kpi_scrap_lots_lot_update()"
    )
    op.execute("DROP VIEW kpi_scrap_lots_source")
    op.execute("DROP TABLE kpi_scrap_lots")
