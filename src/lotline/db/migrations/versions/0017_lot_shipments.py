"""Derived lot -> shipment edges for fast forward traces (backfilled from the spec tables).

Revision ID: 0017
Revises: 0016
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0017_lot_shipments.sql")
    run_sql("core/0017_backfill_lot_shipments.sql")


def downgrade() -> None:
    op.execute("DROP TABLE lot_shipments")
