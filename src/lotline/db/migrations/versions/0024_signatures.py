"""Electronic signatures, linked to the signed record and its audit entry.

Revision ID: 0024
Revises: 0023
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0024_signatures.sql")


def downgrade() -> None:
    op.execute("DROP TABLE signatures")
