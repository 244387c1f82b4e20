"""The derived monthly fill sums (kpi_line_fill_months, kpi_order_fill_months): kept equal to the
fill rows by triggers, and fill rates read from them equal the line-by-line fill rates
(fill_lines.sql) — for windows of whole months or not, as of now and as of earlier times, with
canceled orders, late shipments and orders spanning months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from lotline.db import sql
from lotline.db.sql import load_sql
from lotline.kpis import runs
from lotline.kpis.schemas import RunIn
from lotline.sales import service as sales
from tests.builders import make_customer, make_item, make_location, make_vendor, order, receive, ship

DRIFT = load_sql("lotline.generate", "check_15_kpi_fill_months")  # (violations, sample)


def t(month: int, day: int, hour: float = 0) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC) + timedelta(hours=hour)


@pytest.fixture
def world(session):
    flour, salt = make_item(session, "FLOUR"), make_item(session, "SALT")
    wh = make_location(session, "WH1")
    make_vendor(session)
    shop, cafe = make_customer(session, "SHOP"), make_customer(session, "CAFE")
    receive(session, flour, wh, "F-1", 1000, when=t(1, 2))
    receive(session, salt, wh, "S-1", 1000, when=t(1, 2))
    # SO-1: within January, shipped in full on time
    order(session, "SO-1", shop, [(flour, 10, date(2026, 1, 10)), (salt, 5, date(2026, 1, 12))], when=t(1, 3))
    ship(session, "SO-1", [(1, wh, 10, None), (2, wh, 5, None)], when=t(1, 9))
    # SO-2: spans January and February; the February line is shipped late, the January one partly
    order(session, "SO-2", shop, [(flour, 20, date(2026, 1, 28)), (salt, 8, date(2026, 2, 3))], when=t(1, 4))
    ship(session, "SO-2", [(1, wh, 12, None)], when=t(1, 27))
    ship(session, "SO-2", [(2, wh, 8, None)], when=t(2, 10))
    # SO-3: February and March, shipped complete on time
    order(session, "SO-3", cafe, [(flour, 7, date(2026, 2, 20)), (flour, 3, date(2026, 3, 2))], when=t(2, 1))
    ship(session, "SO-3", [(1, wh, 7, None), (2, wh, 3, None)], when=t(2, 19))
    # SO-4: mid-February, never shipped; SO-5: March, to be canceled
    order(session, "SO-4", cafe, [(salt, 4, date(2026, 2, 14))], when=t(2, 2))
    order(session, "SO-5", cafe, [(salt, 6, date(2026, 3, 5)), (flour, 2, date(2026, 3, 6))], when=t(2, 3))
    ship(session, "SO-5", [(1, wh, 6, None)], when=t(3, 4))
    session.flush()
    return {"flour": flour, "salt": salt}


def _drift(session) -> list:
    session.flush()
    violations, sample = sql.one(session, DRIFT, {}, kind="tuple")
    return [] if violations == 0 else [violations, sample]


def _fill(session, run, name: str) -> list:
    params = runs.compute_params(run)
    sql.execute(session, "DROP TABLE IF EXISTS pg_temp.kpi_fill", {})
    body = sql.load_sql("lotline.kpis", name)
    sql.execute(session, f"CREATE TEMP TABLE kpi_fill ON COMMIT DROP AS\n{body}", params)
    return sorted((str(r[0]), r[1], r[2], r[3]) for r in sql.rows(session, "SELECT * FROM kpi_fill", {}, kind="tuple"))


def test_orders_and_shipments_keep_the_monthly_sums_equal_to_the_fill_rows(session, world):
    assert _drift(session) == []
    lines = sql.scalar(session, "SELECT sum(lines) FROM kpi_line_fill_months WHERE dimension = 'item'", {})
    assert lines == sql.scalar(session, "SELECT count(*) FROM sales_order_line_fills", {}) == 9
    assert sql.scalar(session, "SELECT sum(orders) FROM kpi_order_fill_months", {}) == 5


@pytest.mark.raw_world("edits and deletes fill rows by hand to test the triggers")
def test_raw_updates_deletes_and_truncates_of_fill_rows_are_folded_in(session, world):
    sql.execute(session, "UPDATE sales_order_line_fills SET due_date = due_date + 40 WHERE quantity_ordered = 7", {})
    assert _drift(session) == []
    sql.execute(session, "DELETE FROM sales_order_line_fills WHERE quantity_ordered IN (4, 20)", {})
    assert _drift(session) == []
    sql.execute(session, "TRUNCATE sales_order_line_fills", {})
    assert sql.scalar(session, "SELECT count(*) FROM kpi_line_fill_months", {}) == 0
    assert sql.scalar(session, "SELECT count(*) FROM kpi_order_fill_months", {}) == 0


@pytest.mark.raw_world("cancels an order and sets recording times by hand")
@pytest.mark.parametrize(
    "ws,we,as_of",
    [
        (t(1, 1), t(4, 1), None),  # whole months, everything recorded
        (t(2, 1), t(3, 1), None),  # one month: SO-2 and SO-3 straddle its boundaries
        (t(1, 15), t(3, 3), None),  # edge days at both ends
        (t(2, 5), t(2, 25), None),  # no whole month
        (t(1, 1), t(2, 1), t(2, 12) - timedelta(microseconds=1)),  # SO-1's shipment keyed in later
        (t(1, 1), t(2, 1), t(2, 12)),  # ... exactly at as_of: it counts
        (t(1, 15), t(2, 1), t(2, 11)),  # edge days and stale months together
        (t(1, 1), t(3, 1), t(3, 1)),
    ],
)
def test_fill_rates_from_the_monthly_sums_equal_the_line_by_line_fill_rates(session, world, ws, we, as_of):
    # every order and shipment recorded when it happened (+1 hour) but SO-1's shipment; SO-5 canceled
    sql.execute(
        session,
        "UPDATE sales_order_lines l SET created_at = o.ordered_at + interval '1 hour' FROM sales_orders o"
        " WHERE o.id = l.sales_order_id",
        {},
    )
    sql.execute(session, "UPDATE sales_order_shipments SET created_at = shipped_at + interval '1 hour'", {})
    sql.execute(
        session,
        "UPDATE sales_order_shipments SET created_at = %(late)s::timestamptz WHERE shipped_at = %(shipped)s::timestamptz",
        {"late": t(2, 12), "shipped": t(1, 9)},
    )
    sql.execute(session, "UPDATE sales_orders SET status = 'canceled' WHERE number = 'SO-5'", {})
    ids = [r[0] for r in sql.rows(session, "SELECT id FROM sales_orders", {}, kind="tuple")]
    sales.refresh_line_fills(session, ids)
    assert _drift(session) == []
    run = runs.create_run(session, RunIn(window_start=ws, window_end=we, as_of=as_of))
    via_lines, via_months = _fill(session, run, "fill_lines"), _fill(session, run, "fill")
    assert via_lines and via_months == via_lines


def test_only_a_window_of_whole_utc_months_reads_the_monthly_sums():
    class Run:
        window_start = datetime(2026, 1, 1, tzinfo=UTC)
        window_end = datetime(2026, 4, 1, tzinfo=UTC)

    assert runs.whole_months(Run()) and "kpi_line_fill_months" in runs.statement("fill", months=True)
    assert "kpi_line_fill_months" not in runs.statement("fill", months=False)
    Run.window_end = datetime(2026, 3, 31, tzinfo=UTC)
    assert not runs.whole_months(Run())
    Run.window_end = datetime(2026, 4, 1, 6, tzinfo=UTC)
    assert not runs.whole_months(Run())
