"""Alembic: the test database is at head; on a scratch database of our own, downgrade to base and
upgrade again works and rebuilds exactly the same schema."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from lotline.db import engine as engine_mod
from lotline.db import migrations

SCHEMA = sa.text(
    """
    SELECT 'column' AS kind, table_name || '.' || column_name AS name,
           concat_ws(' ', data_type, is_nullable, column_default) AS def
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL
    SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
    ORDER BY 1, 2
    """
)


def _tables(eng) -> set[str]:
    with eng.connect() as conn:
        return set(
            conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        )


def _schema(eng) -> list[tuple]:
    with eng.connect() as conn:
        return [tuple(r) for r in conn.execute(SCHEMA)]


@pytest.fixture(scope="module")
def scratch_database(database_url):
    """A database of our own (never the shared test database) on the same server; dropped after."""
    name = f"lotline_migr_{os.getpid()}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    eng = engine_mod.create_engine(
        make_url(database_url).set(database=name).render_as_string(hide_password=False),
        poolclass=sa.pool.NullPool,
    )
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def scratch_engine(scratch_database):
    """The scratch database, emptied by downgrading to base (one CREATE/DROP DATABASE per module)."""
    if migrations.current(scratch_database) is not None:
        migrations.downgrade(scratch_database, "base")
    return scratch_database


def test_the_test_database_is_at_the_head_revision(engine):
    assert migrations.current(engine) == migrations.head()


def test_downgrade_to_base_and_upgrade_again_rebuilds_the_same_schema(scratch_engine):
    assert migrations.current(scratch_engine) is None
    migrations.upgrade(scratch_engine)
    assert migrations.current(scratch_engine) == migrations.head()
    built = _schema(scratch_engine)
    assert {"items", "lots", "kpi_rollup_inputs", "inventory_balances"} <= _tables(scratch_engine)

    migrations.downgrade(scratch_engine, "base")
    assert migrations.current(scratch_engine) is None
    assert _tables(scratch_engine) <= {"alembic_version"}

    migrations.upgrade(scratch_engine)
    assert migrations.current(scratch_engine) == migrations.head()
    assert _schema(scratch_engine) == built


def test_upgrade_at_head_is_a_no_op(scratch_engine):
    migrations.upgrade(scratch_engine)
    before = _schema(scratch_engine)
    migrations.upgrade(scratch_engine)
    assert _schema(scratch_engine) == before
    assert migrations.current(scratch_engine) == migrations.head()


def test_every_revision_downgrades_and_upgrades_one_step_at_a_time(scratch_engine):
    migrations.upgrade(scratch_engine)
    steps = []
    while migrations.current(scratch_engine) is not None:
        steps.append(migrations.current(scratch_engine))
        migrations.downgrade(scratch_engine, "-1")
    assert _tables(scratch_engine) <= {"alembic_version"}
    for rev in reversed(steps):
        migrations.upgrade(scratch_engine, "+1")
        assert migrations.current(scratch_engine) == rev
    assert len(steps) >= 16
