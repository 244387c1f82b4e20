"""Phase 7 migration 4: shipment_lot_links (frozen spec DDL, executed verbatim).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/04_shipment_lot_links.sql")


def downgrade() -> None:
    op.execute("DROP TABLE shipment_lot_links")
