"""A read snapshot is one REPEATABLE READ, READ ONLY transaction. It ends without costing the
connection the statements psycopg prepared on it, and plans them for each run's parameters."""

import pytest
import sqlalchemy as sa

from lotline import db, errors
from lotline.db import engine as engine_mod
from lotline.db import sql

PROBE = "SELECT %(n)s::int AS read_snapshot_probe"
PLANS = (
    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
    " WHERE position('read_snapshot_probe' in statement) > 0"
)


@pytest.fixture
def one_connection(committed_engine, database_url):
    """The process-wide engine with a pool of one connection, so every snapshot reuses it."""
    engine = engine_mod.create_engine(database_url, poolclass=sa.pool.QueuePool, pool_size=1, max_overflow=0)
    engine_mod.reset_engine(engine)
    yield engine
    engine_mod.reset_engine(committed_engine)


def test_a_read_snapshot_refuses_to_write(one_connection):
    with pytest.raises(errors.LotlineError), db.read_snapshot() as s:
        sql.execute(s, "CREATE TEMPORARY TABLE read_snapshot_write_probe (x int)")
    with db.read_snapshot() as s:
        assert sql.scalar(s, "SELECT to_regclass('pg_temp.read_snapshot_write_probe') IS NULL")


def test_a_statement_run_in_snapshot_after_snapshot_stays_prepared_and_is_planned_per_run(one_connection):
    # psycopg prepares a statement once it has run prepare_threshold (5) times on a connection and
    # forgets every prepared statement at a ROLLBACK: a snapshot ending with ROLLBACK would make a
    # trace parse its statements again on every request. Kept, they are still planned for each
    # run's parameters (custom plans), never with a generic plan PostgreSQL picked by itself.
    for n in range(8):
        with db.read_snapshot() as s:
            assert sql.scalar(s, PROBE, {"n": n}) == n
    with db.read_snapshot() as s:
        generic, custom = sql.one(s, PLANS, kind="tuple")
        assert (generic, custom) == (0, 3)  # runs 6, 7 and 8 used the prepared statement
        assert sql.scalar(s, "SELECT current_setting('plan_cache_mode')") == "force_custom_plan"
