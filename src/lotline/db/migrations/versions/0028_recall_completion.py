"""Recalls run to completion: strategy, consignees, response links, responses, reminders,
effectiveness checks, status reports, the job-run log; and procrastinate's job-queue schema for
``lotline worker`` (the schema of the pinned procrastinate release, applied verbatim).

Revision ID: 0028
Revises: 0027
"""

from importlib import resources

from alembic import op

from lotline.db import sql
from lotline.db.migrations import run_sql

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

TABLES = [
    "lotline_job_runs", "recall_status_reports", "recall_effectiveness_checks", "recall_reminders", "recall_responses",
    "recall_response_links", "recall_consignees", "recall_strategies",
]


def upgrade() -> None:
    run_sql("recalls/recall_completion.sql")
    sql.execute(op.get_bind(), resources.files("procrastinate.sql").joinpath("schema.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION recall_responses_append_only()")
    op.execute("DROP FUNCTION recall_status_reports_immutable()")
    for table in ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers"):
        op.execute(f"DROP TABLE {table} CASCADE")
    op.execute(
        "DO $$ DECLARE f record; BEGIN FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
        "AND p.proname LIKE 'procrastinate%' LOOP EXECUTE 'DROP FUNCTION ' || f.sig; END LOOP; END $$"
    )
    for typ in ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status"):
        op.execute(f"DROP TYPE {typ}")
