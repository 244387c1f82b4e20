"""Phase 7 migration 2: inventory_movement_lots (frozen spec DDL, executed verbatim).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/02_inventory_movement_lots.sql")


def downgrade() -> None:
    op.execute("DROP TABLE inventory_movement_lots")
