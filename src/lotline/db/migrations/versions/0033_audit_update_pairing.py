"""The audit trigger pairs an UPDATE's old and new rows without a nested loop, whatever plan it cached.

Revision ID: 0033
Revises: 0032

lotline_audit_statement() (0031) joins the UPDATE transition tables on row position. PL/pgSQL keeps
the plan of that join per table and connection; after a few one-row updates it settles on a plan
made for one row — a nested loop that rescans (and re-encodes as jsonb) the whole old table for every
new row. A later UPDATE of n rows on that connection then costs n² row encodings: 312 rows took
1.2 s instead of 35 ms, 2,000 rows 8.5 s instead of 72 ms (measured on PostgreSQL 15). Turning
nested loops off for the function's own statements leaves the planner hash or merge joins, linear
in n for any row count; the function has no other join, and the statement that fired the trigger is
planned outside it, so nothing else is affected. What the trail records does not change.
"""

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER FUNCTION lotline_audit_statement() SET enable_nestloop = off")


def downgrade() -> None:
    op.execute("ALTER FUNCTION lotline_audit_statement() RESET enable_nestloop")
