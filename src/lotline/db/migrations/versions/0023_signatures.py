"""Electronic signatures, linked to the signed record and its audit entry.

Revision ID: 0023
Revises: 0022
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0023_signatures.sql")


def downgrade() -> None:
    op.execute("DROP TABLE signatures")
