"""GS1 identifiers of master data; EPCIS capture jobs, per-event results and captured events.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0025_epcis.sql")


def downgrade() -> None:
    op.execute("DROP TABLE epcis_events")
    op.execute("DROP TABLE epcis_capture_results")
    op.execute("DROP TABLE epcis_capture_jobs")
    op.execute("DROP TABLE gs1_identifiers")
