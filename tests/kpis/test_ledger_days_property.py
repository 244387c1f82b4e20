"""Property tests of the derived per-day ledger sums (kpi_ledger_days) on random posting sequences
through the services — receipts, transfers, adjustments, scraps, returns, production executions,
shipments and reversals of any of them:

- after every posting the derived table equals its recomputation from the ledger (check_14);
- with the lines recorded at random times, the ledger pass a run makes from the derived sums
  equals the pass over every line, as of any time (before, between and after the recordings) and
  for any window of whole UTC days — a bucket holding a line recorded after as_of is read from its
  lines, so as_of stays exact; and so does the run's one-pass series step (series_derived.sql) equal
  series.sql over either pass.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotline.db import sql
from lotline.errors import LotlineError
from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ReturnIn, ReversalIn, ScrapIn, TransferIn
from lotline.kpis import runs
from lotline.kpis.schemas import RunIn
from tests.builders import execute, make_customer, make_item, make_location, make_vendor, order, ship
from tests.kpis.test_ledger_days import series_over_days, series_rows

DRIFT = sql.load_sql("lotline.generate", "check_14_kpi_ledger_days")
T0 = datetime(2026, 3, 1, tzinfo=UTC)

KINDS = ["receipt", "transfer", "adjustment", "scrap", "return", "execution", "shipment", "reversal"]
postings = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 1),  # location (from)
        st.integers(1, 12),  # quantity
        st.integers(0, 9 * 24),  # hours after T0 (UTC days 0..9, their edges drawn as well)
        st.integers(0, 50),  # which earlier movement a reversal takes back
    ),
    min_size=1,
    max_size=12,
)


def _drift(session) -> list:
    session.flush()
    violations, sample = sql.one(session, DRIFT, {}, kind="tuple")
    return [] if violations == 0 else [violations, sample]


def _world(session):
    flour, salt = make_item(session, "FLOUR"), make_item(session, "SALT", lot_tracked=False)
    bread = make_item(session, "BREAD")
    locations = [make_location(session, "WH1"), make_location(session, "WH2")]
    make_vendor(session)
    make_customer(session)
    return flour, salt, bread, locations


def _post(session, world, n: int, kind: str, loc: int, qty: int, hours: int, pick: int) -> None:  # noqa: C901 — one branch per kind of posting
    flour, salt, bread, locations = world
    here, there = locations[loc].code, locations[1 - loc].code
    when = T0 + timedelta(hours=hours)
    q = Decimal(qty)
    if kind == "receipt":
        inventory.receive(session, ReceiptIn(vendor="MILL", occurred_at=when, lines=[
            {"item": "FLOUR", "location": here, "quantity": q, "lots": [{"lot_code": f"F-{n}", "quantity": q}]},
            {"item": "SALT", "location": here, "quantity": q},
        ]))
    elif kind == "transfer":
        inventory.transfer(session, TransferIn(item="FLOUR", from_location=here, to_location=there, quantity=q,
                                               occurred_at=when))
    elif kind == "adjustment":
        inventory.adjust(session, AdjustmentIn(reason="count", occurred_at=when,
                                               lines=[{"item": "SALT", "location": here, "quantity": q if qty % 2 else -q}]))
    elif kind == "scrap":
        # FLOUR is lot-tracked: a scrap names its lot (one on hand here, picked), else it is refused
        held = sql.rows(session, "SELECT lo.lot_code, b.quantity FROM inventory_balances b JOIN lots lo ON lo.id = b.lot_id"
                        " WHERE b.item_id = %(item)s::uuid AND b.location_id = %(loc)s::uuid AND b.quantity > 0"
                        " ORDER BY lo.lot_code", {"item": flour.id, "loc": locations[loc].id}, kind="tuple")
        if held:
            code, on_hand = held[pick % len(held)]
            q = min(q, on_hand)
            inventory.scrap(session, ScrapIn(item="FLOUR", location=here, quantity=q,
                                             lots=[{"lot": code, "quantity": q}], occurred_at=when))
    elif kind == "return":
        inventory.return_goods(session, ReturnIn(customer="SHOP", occurred_at=when,
                                                 lines=[{"item": "SALT", "location": here, "quantity": q}]))
    elif kind == "execution":
        execute(session, f"WO-{n}", bread, [(flour, locations[loc], qty, None)],
                [(locations[loc], qty * 2, f"B-{n}")], when=when)
    elif kind == "shipment":
        order(session, f"SO-{n}", world_customer(session), [(flour, qty, when.date())], when=when - timedelta(hours=1))
        ship(session, f"SO-{n}", [(1, locations[loc], qty, None)], when=when)
    else:
        moved = sql.rows(session, "SELECT id FROM inventory_movements WHERE status = 'posted' ORDER BY created_at, id",
                         {}, kind="tuple")
        if moved:
            inventory.reverse(session, moved[pick % len(moved)][0], ReversalIn(reason="keyed twice", occurred_at=when))


def world_customer(session):
    from lotline.models import Customer

    return session.query(Customer).filter_by(code="SHOP").one()


def _try(session, fn) -> bool:
    """Run one posting in a savepoint; a refused one (not enough stock, ...) leaves nothing behind."""
    nested = session.begin_nested()
    try:
        fn()
        session.flush()
    except LotlineError:
        nested.rollback()
        return False
    nested.commit()
    return True


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=postings)
def test_every_kind_of_posting_keeps_the_derived_sums_equal_to_the_ledger(session, steps):
    nested = session.begin_nested()
    try:
        world = _world(session)
        for n, (kind, loc, qty, hours, pick) in enumerate(steps):
            _try(session, lambda: _post(session, world, n, kind, loc, qty, hours, pick))  # noqa: B023 — run now
            assert _drift(session) == [], f"after step {n}: {kind}"
    finally:
        nested.rollback()


def _days(session, run, derived: bool) -> list:
    params = runs.compute_params(run)
    sql.execute(session, "DROP TABLE IF EXISTS pg_temp.kpi_days", {})
    sql.execute(session, runs.statement("days", derived=derived), params)
    return sorted(sql.rows(session, "SELECT * FROM kpi_days", {}, kind="tuple"))


@pytest.mark.raw_world("sets the recording times of the posted lines by hand")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=postings,
    recorded=st.lists(st.integers(0, 13 * 24), min_size=12, max_size=12),  # hours after T0, per movement
    window=st.tuples(st.integers(-1, 6), st.integers(1, 4)),  # first day (from T0), days
    as_of=st.integers(0, 3 * 24),  # hours after the window's end (a run measures an ended window)
)
def test_the_derived_ledger_pass_equals_the_pass_over_every_line_as_of_any_time(
    session, steps, recorded, window, as_of
):
    nested = session.begin_nested()
    try:
        world = _world(session)
        for n, (kind, loc, qty, hours, pick) in enumerate(steps):
            _try(session, lambda: _post(session, world, n, kind, loc, qty, hours, pick))  # noqa: B023 — run now
        # each movement's lines recorded at a drawn time (never before they happened)
        sql.execute(
            session,
            "UPDATE inventory_movement_lines l SET created_at = greatest(l.occurred_at, %(t0)s::timestamptz "
            "+ make_interval(hours => (%(recorded)s::int[])[1 + m.rn %% 12])) "
            "FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn FROM inventory_movements) m "
            "WHERE m.id = l.movement_id",
            {"t0": T0, "recorded": recorded},
        )
        assert _drift(session) == []
        first, length = window
        ws = T0 + timedelta(days=first)
        we = ws + timedelta(days=length)
        run = runs.create_run(session, RunIn(window_start=ws, window_end=we, as_of=we + timedelta(hours=as_of)))
        assert runs.whole_days(run)
        assert _days(session, run, derived=True) == _days(session, run, derived=False)
        # the run's series step (series_derived.sql, one pass) = series.sql over either day pass
        via_run = series_rows(session, run, runs.statement("series", derived=True))
        assert via_run == series_rows(session, run, series_over_days(derived=False))
        assert via_run == series_rows(session, run, series_over_days(derived=True))
    finally:
        nested.rollback()


def test_a_lot_scrap_step_is_posted_and_keeps_the_derived_sums(session):
    """The scrap step above really posts a scrap (a lot-tracked scrap must name its lots)."""
    nested = session.begin_nested()
    try:
        world = _world(session)
        assert _try(session, lambda: _post(session, world, 0, "receipt", 0, 10, 1, 0))
        assert _try(session, lambda: _post(session, world, 1, "scrap", 0, 4, 2, 0))
        scrapped = sql.scalar(session, "SELECT count(*) FROM inventory_movements WHERE movement_type = 'scrap'")
        assert scrapped == 1
        assert _drift(session) == []
    finally:
        nested.rollback()
