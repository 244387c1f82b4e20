"""The trace's statements run with generic plans, prepared once per pooled connection.

Their plans have one shape whatever the parameters (index probes the planner cannot turn into
scans), so planning them again for each trace was wasted work. The setting is the trace's own:
put back for the rest of the snapshot.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.db import engine as engine_mod
from lotline.db import sql
from lotline.errors import NotFound
from lotline.trace import service as trace
from tests.trace.test_equivalence import generated  # noqa: F401 — the module's generated data

STATEMENT_PLANS = (
    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
    " WHERE position(%(marker)s in statement) > 0"
)


def test_the_closure_stays_prepared_with_a_generic_plan_and_the_snapshot_gets_its_setting_back(generated):  # noqa: F811
    url = generated.url.render_as_string(hide_password=False)
    one = engine_mod.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=1, max_overflow=0)
    previous = engine_mod.get_engine()
    engine_mod.reset_engine(one)
    db.configure_sessions(None)
    try:
        with one.connect() as conn:
            lot = conn.execute(sa.text("SELECT parent_lot_id FROM lot_genealogy_edges LIMIT 1")).scalar_one()
        for _ in range(7):
            with db.read_snapshot() as s:
                result = trace.trace(s, [lot], "forward")
                assert result.lots
                assert sql.scalar(s, "SELECT current_setting('plan_cache_mode')") == "force_custom_plan"
        with db.read_snapshot() as s:
            closure = sql.one(s, STATEMENT_PLANS, {"marker": "WITH RECURSIVE down(lot_id)"}, kind="tuple")
            shipments = sql.one(s, STATEMENT_PLANS, {"marker": "FROM lot_shipments l"}, kind="tuple")
        # runs 6 and 7 used the prepared statements, each with the one generic plan
        assert closure == (2, 0)
        assert shipments == (2, 0)
    finally:
        engine_mod.reset_engine(previous)
        one.dispose()


def test_an_unknown_start_lot_is_refused_and_the_trace_settings_are_put_back(session):
    # the start lots, the settings and the closure go in one round trip: the refusal comes after
    # the settings were set, and must put them back for the rest of the caller's transaction
    names = [*trace.TRACE_SETTINGS, *trace.TRACE_PLANS]
    shown = "SELECT array_agg(current_setting(n) ORDER BY n) FROM unnest(%(names)s::text[]) AS n"
    before = sql.scalar(session, shown, {"names": names})
    unknown = uuid.uuid4()
    with pytest.raises(NotFound, match=str(unknown)):
        trace.trace(session, [unknown], "forward")
    assert sql.scalar(session, shown, {"names": names}) == before
    # (the check means something: the transaction's own values are not the trace's)
    assert dict(zip(sorted(names), before, strict=True))["plan_cache_mode"] != "force_generic_plan"
