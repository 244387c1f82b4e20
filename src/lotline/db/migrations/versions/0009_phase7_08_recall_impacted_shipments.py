"""Phase 7 migration 8: recall_impacted_shipments (frozen spec DDL, executed verbatim).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("phase7/08_recall_impacted_shipments.sql")


def downgrade() -> None:
    op.execute("DROP TABLE recall_impacted_shipments")
