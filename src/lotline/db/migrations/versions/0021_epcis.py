"""GS1 identifiers of master data; EPCIS capture jobs, per-event results and captured events.

Revision ID: 0021
Revises: 0020
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0021_epcis.sql")


def downgrade() -> None:
    op.execute("DROP TABLE epcis_events")
    op.execute("DROP TABLE epcis_capture_results")
    op.execute("DROP TABLE epcis_capture_jobs")
    op.execute("DROP TABLE gs1_identifiers")
