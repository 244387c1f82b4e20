"""Derived per-(lot, location, type, direction) ledger totals for traces, kept by triggers.

Revision ID: 0030
Revises: 0029
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0030_lot_flow_totals.sql")


def downgrade() -> None:
    for trigger in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER lot_flow_totals_{trigger} ON inventory_movement_lots")
    op.execute("DROP TRIGGER lot_flow_totals_line_update ON inventory_movement_lines")
    op.execute(
        "DROP FUNCTION lot_flow_totals_fold_insert(), lot_flow_totals_fold_update(), "
        "lot_flow_totals_fold_delete(), lot_flow_totals_truncate(), lot_flow_totals_line_update(), "
        "lot_flow_totals_recompute(uuid[])"
    )
    op.execute("DROP VIEW lot_flow_totals_source")
    op.execute("DROP TABLE lot_flow_totals")
