"""The audit trail captured by statement-level triggers over transition tables (same entries, cheaper).

Revision ID: 0031
Revises: 0029
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0031"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0031_audit_statement_triggers.sql")


def downgrade() -> None:
    # Back to one row trigger per table and event on lotline_audit_row(); the credential tables'
    # 'ignore:<column>' argument becomes 0023's WHEN clause again.
    op.execute(
        r"""
        DO $$
        DECLARE
            t record;
            argv text[];
            ignored text;
        BEGIN
            FOR t IN
                SELECT tg.tgrelid::regclass AS tbl, tg.tgname, tg.tgtype,
                       CASE WHEN tg.tgnargs = 0 THEN '{}'::text[]
                            ELSE (string_to_array(encode(tg.tgargs, 'escape'), '\000'))[1:tg.tgnargs] END AS args
                  FROM pg_trigger tg
                 WHERE tg.tgfoid = 'lotline_audit_statement()'::regprocedure AND NOT tg.tgisinternal
            LOOP
                EXECUTE 'DROP TRIGGER ' || quote_ident(t.tgname) || ' ON ' || t.tbl::text;
                argv := ARRAY(SELECT CASE WHEN left(a, 7) = 'ignore:' THEN substr(a, 8) ELSE a END FROM unnest(t.args) a);
                ignored := (SELECT substr(a, 8) FROM unnest(t.args) a WHERE left(a, 7) = 'ignore:' LIMIT 1);
                EXECUTE 'CREATE TRIGGER ' || quote_ident(t.tgname || '_row') || ' AFTER '
                     || substr(t.tgname, length('lotline_audit_') + 1) || ' ON ' || t.tbl::text || ' FOR EACH ROW '
                     || CASE WHEN ignored IS NULL THEN ''
                             ELSE 'WHEN ((to_jsonb(OLD) - ' || quote_literal(ignored) || ') IS DISTINCT FROM (to_jsonb(NEW) - '
                                  || quote_literal(ignored) || ')) ' END
                     || 'EXECUTE FUNCTION lotline_audit_row('
                     || coalesce((SELECT string_agg(quote_literal(a), ', ') FROM unnest(argv) a), '') || ')';
            END LOOP;
        END $$;
        """
    )
    op.execute("DROP FUNCTION lotline_audit_statement()")
