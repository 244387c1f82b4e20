"""GS1 identifiers of master data; EPCIS capture jobs, per-event results and captured events.

Revision ID: 0026
Revises: 0025
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0026_epcis.sql")


def downgrade() -> None:
    op.execute("DROP TABLE epcis_events")
    op.execute("DROP TABLE epcis_capture_results")
    op.execute("DROP TABLE epcis_capture_jobs")
    op.execute("DROP TABLE gs1_identifiers")
