"""The statement audit trigger costs less per statement, same entries (issue 11: posting at ERP rates).

Revision ID: 0035
Revises: 0034

No SET clause on lotline_audit_statement() (nested loops are turned off around the UPDATE pairing
join only), the actor parsed inline and the trigger's arguments parsed only when it has any; see
sql/core/0035_audit_statement_cheaper.sql.
"""

from lotline.db.migrations import run_sql

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0035_audit_statement_cheaper.sql")


def downgrade() -> None:
    run_sql("core/0035_audit_statement_cheaper_down.sql")
