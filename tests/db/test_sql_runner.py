"""db.sql, the one SQL runner: verbatim statements, %(name)s binding, row shapes, errors, pipelines;
and the one placeholder style across every .sql file of the package."""

from __future__ import annotations

import re
import uuid
from importlib import resources

import psycopg
import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from psycopg import sql as pgsql

from lotline import db, errors
from lotline.db import migrations, sql
from tests.builders import make_item


def test_a_statement_without_parameters_is_sent_verbatim_percent_colon_and_all(session):
    assert sql.scalar(session, "SELECT '50%' || ':not_a_bind' || '%(x)s'") == "50%:not_a_bind%(x)s"


def test_a_migration_file_with_percent_signs_and_colons_runs_verbatim(connection, monkeypatch):
    # the migration helper used to parse '%' (exec_driver_sql): SELECT '50%' failed
    ddl = (
        "CREATE TABLE pct_probe (pattern text CHECK (pattern LIKE '%:%'));"
        "INSERT INTO pct_probe VALUES ('50%:x')"
    )
    monkeypatch.setattr(migrations, "sql_text", lambda relative: ddl)
    with Operations.context(MigrationContext.configure(connection)):
        migrations.run_sql("core/probe.sql")
    assert connection.exec_driver_sql("SELECT pattern FROM pct_probe").scalar_one() == "50%:x"


def test_named_parameters_bind_with_their_casts_and_repeat(session):
    row = sql.one(
        session,
        "SELECT %(n)s::int + %(n)s::int AS twice, %(ids)s::uuid[] AS ids, '100%%' AS literal",
        {"n": 21, "ids": [uuid.UUID(int=1)]},
    )
    assert (row.twice, row.ids, row.literal) == (42, [uuid.UUID(int=1)], "100%")


def test_rows_come_as_named_tuples_bare_tuples_or_dicts(session):
    text = "SELECT g AS n, g * 2 AS doubled FROM generate_series(1, 2) g ORDER BY g"
    assert [r.doubled for r in sql.rows(session, text)] == [2, 4]
    assert sql.rows(session, text, kind="tuple") == [(1, 2), (2, 4)]
    assert sql.rows(session, text, kind="dict") == [{"n": 1, "doubled": 2}, {"n": 2, "doubled": 4}]
    assert sql.one(session, "SELECT 1 WHERE false") is None
    assert sql.scalar(session, "SELECT 1 WHERE false") is None


def test_execute_answers_the_number_of_rows_touched(session):
    sql.execute(session, "CREATE TEMP TABLE touched (n int) ON COMMIT DROP")
    assert sql.execute(session, "INSERT INTO touched SELECT generate_series(1, %(n)s::int)", {"n": 3}) == 3


def test_statements_share_the_sessions_transaction_and_see_what_it_flushed(session):
    item = make_item(session, "RUNNER-1")
    assert sql.scalar(session, "SELECT sku FROM items WHERE id = %(id)s::uuid", {"id": item.id}) == "RUNNER-1"


def test_identifiers_compose_with_psycopg_sql(session):
    statement = pgsql.SQL("SELECT count(*) FROM {} WHERE sku = %(sku)s::text").format(pgsql.Identifier("items"))
    make_item(session, "RUNNER-2")
    assert sql.scalar(session, statement, {"sku": "RUNNER-2"}) == 1


def test_a_plain_psycopg_connection_is_a_target_too(database_url):
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        assert sql.scalar(conn, "SELECT %(x)s::text", {"x": "plain"}) == "plain"


def test_database_errors_leave_as_sqlalchemy_errors_so_the_boundary_translates_them(connection):
    with pytest.raises(sa.exc.DBAPIError, match="division by zero"), db.transaction() as s:
        sql.execute(s, "SELECT 1 / %(zero)s::int", {"zero": 0})
    statement = (
        "INSERT INTO items (id, sku, name, uom, lot_tracked, standard_cost)"
        " SELECT gen_random_uuid(), sku, name, uom, lot_tracked, standard_cost FROM items WHERE sku = %(sku)s::text"
    )
    with pytest.raises(errors.DuplicateKey, match="SKU already exists"), db.transaction() as s:
        make_item(s, "RUNNER-DUP")
        sql.execute(s, statement, {"sku": "RUNNER-DUP"})


def test_a_pipelined_statement_is_fetched_after_the_block_has_done_other_work(session):
    with sql.pipelined(session, "SELECT g FROM generate_series(1, %(n)s::int) g ORDER BY g", {"n": 3}) as fetch:
        meanwhile = sum(range(10))
        got = fetch()
    assert (meanwhile, got) == (45, [(1,), (2,), (3,)])


def test_a_pipelined_error_is_translated_like_any_other(session):
    statement = "SELECT 1 / %(zero)s::int"
    with pytest.raises(sa.exc.DBAPIError, match="division by zero"), sql.pipelined(session, statement, {"zero": 0}) as fetch:
        fetch()


# --- one placeholder style -------------------------------------------------------------------------

_COMMENT_OR_STRING = re.compile(r"--[^\n]*|'(?:[^']|'')*'")
_COLON_BIND = re.compile(r"(?<![:\w]):[A-Za-z_]\w*")
_PERCENT = re.compile(r"%(?!\([A-Za-z_]\w*\)[sb]|%)")


def _package_sql_files():
    root = resources.files("lotline")
    for path in sorted(root.rglob("*.sql")):  # type: ignore[attr-defined]
        if "migrations" not in path.parts:  # migration files run verbatim, no parameters
            yield path


def test_every_sql_file_binds_with_named_percent_placeholders_only():
    files = list(_package_sql_files())
    assert len(files) > 20
    bad = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        code = _COMMENT_OR_STRING.sub("", text)
        found = _COLON_BIND.findall(code) + _PERCENT.findall(text)
        if found:
            bad[path.name] = found
    assert bad == {}
