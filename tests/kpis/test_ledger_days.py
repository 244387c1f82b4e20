"""The derived per-day ledger sums (kpi_ledger_days): kept equal to the ledger by triggers, and a
KPI ledger pass over them equals the pass over every line — as of now and as of any earlier time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from lotline.db import sql
from lotline.db.sql import load_sql
from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ReversalIn, TransferIn
from lotline.kpis import runs
from lotline.kpis.schemas import RunIn
from tests.builders import make_customer, make_item, make_location, make_vendor, order, receive, ship

DRIFT = load_sql("lotline.generate", "check_14_kpi_ledger_days")  # (violations, sample)


def t(day: int, hour: float = 0) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC) + timedelta(hours=hour)


@pytest.fixture
def world(session):
    flour, salt = make_item(session, "FLOUR"), make_item(session, "SALT", lot_tracked=False)
    wh1, wh2 = make_location(session, "WH1"), make_location(session, "WH2")
    make_vendor(session)
    customer = make_customer(session)
    receive(session, flour, wh1, "F-1", 100, when=t(2, 8))
    receive(session, flour, wh1, "F-2", 50, when=t(10, 23.99))
    inventory.receive(
        session, ReceiptIn(vendor="MILL", occurred_at=t(3), lines=[{"item": "SALT", "location": "WH1", "quantity": 20}])
    )
    inventory.transfer(
        session,
        TransferIn(item="FLOUR", from_location="WH1", to_location="WH2", quantity=Decimal(30),
                   lots=[{"lot": "F-1", "quantity": Decimal(30)}], occurred_at=t(12, 6)),
    )
    inventory.adjust(
        session,
        AdjustmentIn(reason="count", occurred_at=t(14, 1),
                     lines=[{"item": "SALT", "location": "WH1", "quantity": Decimal(-35)}]),
    )
    order(session, "SO-1", customer, [(flour, 40, t(16).date())], when=t(11))
    ship(session, "SO-1", [(1, wh1, 25, None)], when=t(16, 12))
    session.flush()
    return {"flour": flour, "salt": salt, "wh1": wh1, "wh2": wh2}


def _drift(session) -> list:
    session.flush()
    violations, sample = sql.one(session, DRIFT, {}, kind="tuple")
    return [] if violations == 0 else [violations, sample]


def test_postings_keep_the_derived_sums_equal_to_the_ledger(session, world):
    assert _drift(session) == []
    assert sql.scalar(session, "SELECT sum(lines) FROM kpi_ledger_days", {}) == sql.scalar(
        session, "SELECT count(*) FROM inventory_movement_lines", {}
    )


def test_a_reversal_keeps_them_equal_and_nets_the_bucket_out(session, world):
    moved = sql.scalar(session, "SELECT id FROM inventory_movements WHERE movement_type = 'transfer'", {})
    inventory.reverse(session, moved, ReversalIn(reason="keyed twice", occurred_at=t(12, 7)))
    assert _drift(session) == []
    net = sql.scalar(
        session,
        "SELECT sum(quantity) FROM kpi_ledger_days WHERE movement_type = 'transfer' AND day = '2026-01-12'",
        {},
    )
    assert net == 0


@pytest.mark.raw_world("edits posted ledger lines by hand to test the triggers")
def test_raw_updates_deletes_and_truncates_of_lines_are_folded_in(session, world):
    sql.execute(
        session,
        "UPDATE inventory_movement_lines SET occurred_at = occurred_at + interval '3 days', "
        "quantity_delta = quantity_delta * 2 WHERE movement_type = 'adjustment'",
        {},
    )
    assert _drift(session) == []
    sql.execute(session, "DELETE FROM inventory_movement_lots", {})
    sql.execute(session, "DELETE FROM sales_order_shipment_lines", {})
    sql.execute(session, "DELETE FROM inventory_movement_lines WHERE movement_type = 'transfer'", {})
    assert _drift(session) == []
    assert sql.scalar(session, "SELECT count(*) FROM kpi_ledger_days WHERE movement_type = 'transfer'", {}) == 0
    sql.execute(session, "TRUNCATE inventory_movement_lines CASCADE", {})
    assert sql.scalar(session, "SELECT count(*) FROM kpi_ledger_days", {}) == 0


def _days(session, run, derived: bool) -> list:
    params = runs.compute_params(run)
    sql.execute(session, "DROP TABLE IF EXISTS pg_temp.kpi_days", {})
    sql.execute(session, runs.statement("days", derived=derived), params)
    return sorted(sql.rows(session, "SELECT * FROM kpi_days", {}, kind="tuple"))


@pytest.mark.raw_world("sets the recording times of the lines by hand")
@pytest.mark.parametrize(
    "ws,we,as_of",
    [
        (t(5), t(18), t(25)),  # everything recorded
        (t(1), t(20), t(20)),  # the late lines recorded exactly at as_of count
        (t(1), t(19), t(20) - timedelta(microseconds=1)),  # ... and a microsecond before, they do not
        (t(5), t(12), t(12, 7)),  # the transfer happened, but was recorded late
        (t(2), t(3), t(3)),
        (t(11), t(17), t(19)),  # the opening balance holds late-recorded lines too
    ],
)
def test_the_derived_ledger_pass_equals_the_pass_over_every_line(session, world, ws, we, as_of):
    # each line recorded an hour after it happened; the transfer and the shipment keyed in on day 20
    sql.execute(
        session,
        "UPDATE inventory_movement_lines SET created_at = CASE WHEN movement_type IN ('transfer', 'shipment') "
        "THEN %(late)s::timestamptz ELSE occurred_at + interval '1 hour' END",
        {"late": t(20)},
    )
    assert _drift(session) == []
    run = runs.create_run(session, RunIn(window_start=ws, window_end=we, as_of=as_of))
    assert runs.whole_days(run)
    via_lines, via_days = _days(session, run, derived=False), _days(session, run, derived=True)
    assert via_lines and via_days == via_lines


def series_rows(session, run, text: str) -> list:
    """The rows of kpi_series made by ``text`` (a CREATE TEMP TABLE kpi_series statement)."""
    sql.execute(session, "DROP TABLE IF EXISTS pg_temp.kpi_series", {})
    sql.execute(session, text, runs.compute_params(run))
    return sorted(sql.rows(session, "SELECT * FROM kpi_series", {}, kind="tuple"))


def series_over_days(derived: bool) -> str:
    """series.sql over days.sql (every line) or days_derived.sql: the definition that the run's
    one-pass series step (series_derived.sql) reproduces."""
    days = load_sql("lotline.kpis", "days_derived" if derived else "days").rstrip().removesuffix(";")
    body = load_sql("lotline.kpis", "series").rstrip().removesuffix(";")
    return f"CREATE TEMP TABLE kpi_series ON COMMIT DROP AS WITH kpi_days AS MATERIALIZED ({days}) SELECT * FROM ({body}) s"


@pytest.mark.raw_world("sets the recording times of the lines by hand")
@pytest.mark.parametrize(
    "ws,we,as_of",
    [
        (t(7), t(18), t(25)),  # several days before the window: at 0, below 0, then back above
        (t(4), t(18), t(25)),  # the window opens on a negative day
        (t(1), t(20), t(20)),
        (t(5), t(12), t(12, 7)),  # a stale bucket inside the window
        (t(11), t(17), t(19)),  # ... and before it (the opening balance)
        (t(20), t(22), t(25)),  # no movement inside the window
    ],
)
def test_the_runs_one_pass_series_step_equals_series_over_either_day_pass(session, world, ws, we, as_of):
    # SALT at WH2 before the window: 5 in (day 2), to 0 (day 3), to -2 (day 4), to 8 (day 6): only
    # the last pre-window level is the opening one; the earlier days hold for no window day
    for day, qty in ((2, 5), (3, -5), (4, -2), (6, 10)):
        inventory.adjust(session, AdjustmentIn(reason="count", occurred_at=t(day, 9),
                                               lines=[{"item": "SALT", "location": "WH2", "quantity": Decimal(qty)}]))
    sql.execute(
        session,
        "UPDATE inventory_movement_lines SET created_at = CASE WHEN movement_type IN ('transfer', 'shipment') "
        "THEN %(late)s::timestamptz ELSE occurred_at + interval '1 hour' END",
        {"late": t(20)},
    )
    assert _drift(session) == []
    run = runs.create_run(session, RunIn(window_start=ws, window_end=we, as_of=as_of))
    via_run = series_rows(session, run, runs.statement("series", derived=True))
    assert len(via_run) >= 3  # FLOUR at WH1 (and WH2 once the transfer is before we), SALT at WH1 and WH2
    assert via_run == series_rows(session, run, series_over_days(derived=False))
    assert via_run == series_rows(session, run, series_over_days(derived=True))


def test_only_a_window_of_whole_utc_days_reads_the_derived_sums():
    class Run:
        window_start = datetime(2026, 1, 5, tzinfo=UTC)
        window_end = datetime(2026, 1, 18, tzinfo=UTC)

    assert runs.whole_days(Run())
    Run.window_start = datetime(2026, 1, 5, 6, tzinfo=UTC)
    assert not runs.whole_days(Run())
    Run.window_start = datetime(2026, 1, 5, tzinfo=timezone(timedelta(hours=1)))  # 23:00 UTC
    assert not runs.whole_days(Run())
