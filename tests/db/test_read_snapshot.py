"""A read snapshot is one REPEATABLE READ, READ ONLY transaction."""

import pytest
import sqlalchemy as sa

from lotline import db, errors
from lotline.db import engine as engine_mod
from lotline.db import sql


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
