"""Each trace statement returns exactly the columns the engine unpacks by name, in order."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from lotline.db import sql
from lotline.trace import service as trace
from lotline.trace.stock import STOCK_COLUMNS
from lotline.types import utcnow

LOT_IDS = [uuid.uuid4()]
STATEMENTS = {
    "lots": (trace.LOTS_COLUMNS, {"lot_ids": LOT_IDS}),
    "closure": (trace.CLOSURE_COLUMNS, {"forward_start": LOT_IDS, "backward_start": LOT_IDS}),
    "closure_bounded": (
        trace.CLOSURE_COLUMNS,
        {"forward_start": LOT_IDS, "backward_start": LOT_IDS, "max_depth": 2},
    ),
    "shipments": (trace.SHIPMENTS_COLUMNS, {"lot_ids": LOT_IDS}),
    "stock": (STOCK_COLUMNS, {"lot_ids": LOT_IDS, "with_balances": True}),
}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_the_statement_returns_the_columns_the_engine_unpacks(session, name):
    columns, params = STATEMENTS[name]
    raw = sql.driver_connection(session)
    with raw.cursor() as cur:
        cur.execute(sql.load_sql("lotline.trace", name), {**params, "as_of": utcnow(), "status_as_of": None})
        assert tuple(c.name for c in cur.description) == tuple(columns)


def test_pipelined_reads_each_keep_their_rows_whatever_the_fetch_order(session):
    """The trace sends shipments and stock in one pipeline (sql.pipelined_many) and fetches them
    in its own order: each statement's rows stay with it."""
    statements = [("SELECT g FROM generate_series(1, %(n)s::int) AS g", {"n": n}) for n in (2, 3)]
    with sql.pipelined_many(session, statements) as (first, second):
        assert second() == [(1,), (2,), (3,)]
        assert first() == [(1,), (2,)]


def test_an_error_in_a_pipelined_read_leaves_as_the_runners_error(session):
    statements = [("SELECT 1", {}), ("SELECT 1 / %(z)s::int", {"z": 0})]
    # in a savepoint: the failed statement aborts it, not the test's transaction
    with (
        pytest.raises(sa.exc.DBAPIError, match="division by zero"),
        session.begin_nested(),
        sql.pipelined_many(session, statements) as fetches,
    ):
        for fetch in fetches:
            fetch()
