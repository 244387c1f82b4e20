"""Each trace statement returns exactly the columns the engine unpacks by name, in order."""

from __future__ import annotations

import uuid

import pytest

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
