"""The audit trail: append-only audit_log written by row triggers on every table of record.

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
    run_sql("core/0023_audit_trail.sql")


def downgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE r record;
        BEGIN
            FOR r IN SELECT tgname, tgrelid::regclass AS tbl FROM pg_trigger
                      WHERE tgname LIKE 'lotline_audit%' AND NOT tgisinternal LOOP
                EXECUTE 'DROP TRIGGER ' || quote_ident(r.tgname) || ' ON ' || r.tbl::text;
            END LOOP;
        END $$;
        """
    )
    op.execute("DROP TABLE audit_log")
    op.execute(
        "DROP FUNCTION lotline_audit_row(), lotline_audit_truncate(), lotline_audit_actor(), lotline_audit_refuse()"
    )
