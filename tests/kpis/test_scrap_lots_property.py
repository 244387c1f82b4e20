"""Property tests of the derived scrap lot rows (kpi_scrap_lots, migration 0034) on random posting
sequences through the services — receipts, transfers, adjustments, scraps, returns, production
executions, shipments, reversals — interleaved with changes of lots' expiry dates:

- after every step the derived table equals its recomputation from the ledger (check_17);
- with the movements recorded at random times, the expiry write-offs a run computes from the
  derived rows (lot_facts.sql) equal those of the join through the ledger that lot_facts.sql made
  before 0034 (OLD_EXPIRED, kept here as the reference), for any window and as of any time.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotline.db import sql
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ScrapIn
from lotline.kpis import runs
from lotline.kpis.schemas import RunIn
from tests.kpis.test_ledger_days_property import KINDS, T0, _post, _try, _world

DRIFT = sql.load_sql("lotline.generate", "check_17_kpi_scrap_lots")

# lot_facts.sql's expired part before migration 0034: scrap movements -> lines -> lot rows -> lots.
OLD_EXPIRED = """
SELECT l.item_id, l.location_id, -sum(ml.quantity_delta) AS expired_qty
  FROM inventory_movements m
  JOIN inventory_movement_lines l ON l.movement_id = m.id
  JOIN inventory_movement_lots ml ON ml.inventory_movement_line_id = l.id
  JOIN lots lo ON lo.id = ml.lot_id
 WHERE m.movement_type = 'scrap'
   AND m.occurred_at >= %(ws)s::timestamptz
   AND m.occurred_at < %(we)s::timestamptz
   AND m.created_at <= %(as_of)s::timestamptz
   AND lo.expires_at <= m.occurred_at
 GROUP BY l.item_id, l.location_id
"""

steps_st = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from([*KINDS, *["lot_scrap"] * 4]),
            st.integers(0, 1),  # location (from)
            st.integers(1, 12),  # quantity
            st.integers(0, 9 * 24),  # hours after T0
            st.integers(0, 50),  # which earlier movement a reversal takes back
        ),
        # an expiry change: which lot (by creation order), its new expires_at (hours after T0) or none
        st.tuples(st.just("expiry"), st.integers(0, 20), st.one_of(st.none(), st.integers(-24, 10 * 24))),
    ),
    min_size=1,
    max_size=14,
)


def _drift(session) -> list:
    session.flush()
    violations, sample = sql.one(session, DRIFT, {}, kind="tuple")
    return [] if violations == 0 else [violations, sample]


def _set_expiry(session, pick: int, hours: int | None) -> None:
    lots = sql.rows(session, "SELECT id FROM lots ORDER BY created_at, lot_code", {}, kind="tuple")
    if lots:
        expires = None if hours is None else T0 + timedelta(hours=hours)
        sql.execute(session, "UPDATE lots SET expires_at = %(e)s::timestamptz WHERE id = %(id)s::uuid",
                    {"e": expires, "id": lots[pick % len(lots)][0]})


def _scrap_lot(session, world, loc: int, qty: int, hours: int, pick: int) -> None:
    """Scrap up to qty of one lot on hand at the location (a lot-tracked scrap names its lots)."""
    location = world[3][loc]
    held = sql.rows(session, "SELECT i.sku, lo.lot_code, b.quantity FROM inventory_balances b JOIN lots lo ON lo.id = b.lot_id "
                    "JOIN items i ON i.id = lo.item_id "
                    "WHERE b.location_id = %(loc)s::uuid AND b.quantity > 0 ORDER BY lo.lot_code",
                    {"loc": location.id}, kind="tuple")
    if held:
        sku, code, on_hand = held[pick % len(held)]
        q = min(Decimal(qty), on_hand)
        inventory.scrap(session, ScrapIn(item=sku, location=location.code,
                                         quantity=q, lots=[{"lot": code, "quantity": q}],
                                         occurred_at=T0 + timedelta(hours=hours)))


def _apply(session, world, steps) -> None:
    for n, step in enumerate(steps):
        if step[0] == "expiry":
            _set_expiry(session, step[1], step[2])
        elif step[0] == "lot_scrap":
            _, loc, qty, hours, pick = step
            _try(session, lambda: _scrap_lot(session, world, loc, qty, hours, pick))  # noqa: B023 — run now
        else:
            kind, loc, qty, hours, pick = step
            _try(session, lambda: _post(session, world, n, kind, loc, qty, hours, pick))  # noqa: B023 — run now
        assert _drift(session) == [], f"after step {n}: {step}"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps_st)
def test_postings_and_expiry_changes_keep_the_scrap_lot_rows_equal_to_the_ledger(session, steps):
    nested = session.begin_nested()
    try:
        _apply(session, _world(session), steps)
    finally:
        nested.rollback()


def _expired(session, run) -> list:
    params = runs.compute_params(run)
    sql.execute(session, "DROP TABLE IF EXISTS pg_temp.kpi_lot_facts", {})
    sql.execute(session, runs.statement("lot_facts"), params)
    new = sql.rows(session, "SELECT item_id, location_id, expired_qty FROM kpi_lot_facts WHERE expired_qty <> 0",
                   {}, kind="tuple")
    old = sql.rows(session, f"SELECT * FROM ({OLD_EXPIRED}) x WHERE expired_qty <> 0", params, kind="tuple")
    return [sorted(new), sorted(old)]


@pytest.mark.raw_world("sets the recording times of the posted movements by hand")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=steps_st,
    recorded=st.lists(st.integers(0, 13 * 24), min_size=14, max_size=14),  # hours after T0, per movement
    window=st.tuples(st.integers(-1, 4), st.integers(1, 12 * 24)),  # start (days of 31 hours from T0), hours
    expiry=st.lists(st.integers(-24, 10 * 24), min_size=14, max_size=14),  # hours after T0, per lot
    as_of=st.integers(0, 3 * 24),  # hours after the window's end (a run measures an ended window)
)
def test_expiry_write_offs_from_the_derived_rows_equal_the_join_through_the_ledger(
    session, steps, recorded, expiry, window, as_of
):
    nested = session.begin_nested()
    try:
        # stock at both locations and a few lot scraps first, then the drawn steps
        stock = [("receipt", 0, 12, 0, 0), ("receipt", 1, 12, 0, 0), ("execution", 0, 3, 0, 0),
                 ("lot_scrap", 0, 2, 30, 0), ("lot_scrap", 1, 2, 60, 0), ("lot_scrap", 0, 2, 100, 1)]
        _apply(session, _world(session), stock + steps)
        # each movement (and its lines, whose copy check_12 keeps) recorded at a drawn time
        sql.execute(
            session,
            "UPDATE inventory_movements m SET created_at = greatest(m.occurred_at, %(t0)s::timestamptz "
            "+ make_interval(hours => (%(recorded)s::int[])[1 + x.rn %% 14])) "
            "FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn FROM inventory_movements) x "
            "WHERE x.id = m.id",
            {"t0": T0, "recorded": recorded},
        )
        sql.execute(session, "UPDATE inventory_movement_lines l SET created_at = m.created_at "
                             "FROM inventory_movements m WHERE m.id = l.movement_id", {})
        # every lot an expiry date, in one statement (the lots trigger folds many rows at once)
        sql.execute(
            session,
            "UPDATE lots lo SET expires_at = %(t0)s::timestamptz + make_interval(hours => (%(expiry)s::int[])[1 + x.rn %% 14]) "
            "FROM (SELECT id, row_number() OVER (ORDER BY lot_code) AS rn FROM lots) x WHERE x.id = lo.id",
            {"t0": T0, "expiry": expiry},
        )
        assert _drift(session) == []
        first, hours = window
        ws = T0 + timedelta(hours=first * 24 + 7 * first)  # edges inside days as well as at midnight
        we = ws + timedelta(hours=hours)
        run = runs.create_run(session, RunIn(window_start=ws, window_end=we, as_of=we + timedelta(hours=as_of)))
        new, old = _expired(session, run)
        assert new == old
    finally:
        nested.rollback()


def test_an_expired_scrap_counts_once_its_lot_is_expired_and_not_before(session):
    """A hand-checked case: a scrap of 4 from a lot, counted only while the lot's expiry precedes it."""
    nested = session.begin_nested()
    try:
        world = _world(session)
        _post(session, world, 0, "receipt", 0, 10, 1, 0)
        _scrap_lot(session, world, 0, 4, 30, 0)
        run = runs.create_run(session, RunIn(window_start=T0, window_end=T0 + timedelta(days=5)))  # as of now
        assert _expired(session, run) == [[], []]
        sql.execute(session, "UPDATE lots SET expires_at = %(e)s::timestamptz", {"e": T0 + timedelta(hours=29)})
        assert _drift(session) == []
        new, old = _expired(session, run)
        assert [(q,) for _, _, q in new] == [(4,)] and new == old
    finally:
        nested.rollback()


def test_random_sequences_do_write_expired_scraps(session):
    """The strategies above reach the case they are about: a lot-tracked scrap of an expired lot."""
    nested = session.begin_nested()
    try:
        world = _world(session)
        _apply(session, world, [("receipt", 0, 10, 1, 0), ("lot_scrap", 0, 3, 50, 0), ("expiry", 0, 2)])
        assert sql.scalar(session, "SELECT count(*) FROM kpi_scrap_lots WHERE expires_at <= occurred_at", {}) == 1
    finally:
        nested.rollback()
