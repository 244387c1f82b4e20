"""Derived tables maintained by the posting service: on-hand balances and lot genealogy edges.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0016_inventory_balances.sql")


def downgrade() -> None:
    op.execute("DROP TABLE lot_genealogy_edges, inventory_balances")
