"""Recalls run to completion: strategy, consignees, response links, responses, reminders,
effectiveness checks, status reports.

Revision ID: 0021
Revises: 0020
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = [
    "recall_status_reports", "recall_effectiveness_checks", "recall_reminders", "recall_responses",
    "recall_response_links", "recall_consignees", "recall_strategies",
]


def upgrade() -> None:
    run_sql("recalls/recall_completion.sql")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION recall_responses_append_only()")
    op.execute("DROP FUNCTION recall_status_reports_immutable()")
