"""Ledger lines carry their movement's occurred_at and movement_type (backfilled).

Revision ID: 0019
Revises: 0018
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0019_movement_line_time_type.sql")


def downgrade() -> None:
    op.execute(
        "ALTER TABLE inventory_movement_lines DROP COLUMN occurred_at, DROP COLUMN movement_type"
    )
