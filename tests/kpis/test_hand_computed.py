"""A tiny ledger whose KPI figures are worked out by hand below, then compared with a computed run.

Window [Jan 15, Jan 25) 2026, 10 days, UTC midnights. Series (item @ location):

FLOUR @ WH1 (lot F-1, cost 2): 100 received Jan 10. Shipped 20 at exactly Jan 15 00:00 (window
  start: inside), 30 on Jan 20, 10 at exactly Jan 25 00:00 (window end: outside).
  on-hand 80 for 5 days, 50 for 5 days -> 650 kg-days; never reaches zero (one-pass path).
FLOUR @ WH2 (lot F-2): 30 received Jan 17 12:00, 10 scrapped Jan 20. Opening 0 -> walked.
  0 for 2.5 days (Jan 15, 16 end out of stock), 30 for 2.5 days, 20 for 5 days -> 175 kg-days.
SALT @ WH1 (untracked, cost 1): 5 received Jan 12, 10 shipped Jan 22 18:00 (goes to -5),
  +5 adjusted Jan 24 -> 0. Clamped: 5 x 7.75 days = 38.75; negative 5 x 1.25 days (walked).
SUGAR @ WH2 (lot S-1, cost 3): 40 received Jan 10, expires Jan 18, quarantined; 15 scrapped Jan 19
  (an expiry write-off). No usage.
OIL @ WH1 (untracked, cost 5): 5 received and scrapped before the window -> no stock at all.
PEPPER: ordered, never stocked.

Orders: SO-1 (SHOP) FLOUR 20 due Jan 15 shipped on time; PEPPER 5 due Jan 16 never shipped.
SO-2 (SHOP) FLOUR 40 due Jan 20: 30 on time, 10 late. SO-3 (CAFE) SALT 10 due Jan 22, shipped
Jan 22 18:00 (same day = on time). SO-4 (CAFE) FLOUR 5 due Feb 10 and FLOUR 7 due Jan 14: not due
in the window.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ScrapIn
from lotline.kpis import service as kpis
from lotline.kpis.schemas import KPIS, RunIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.sales import service as sales
from lotline.sales.schemas import SalesOrderIn
from tests.builders import make_customer, make_item, make_location, make_vendor, receive, ship

D = Decimal
WS = datetime(2026, 1, 15, tzinfo=UTC)
WE = datetime(2026, 1, 25, tzinfo=UTC)
DAYS = D(10)


def t(day: int, hour: float = 0) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC) + timedelta(hours=hour)


def q6(x: Decimal) -> Decimal:
    return x.quantize(D("0.000001"), rounding=ROUND_HALF_UP)  # PostgreSQL round(): half away from zero


def ratio(num: Decimal, den: Decimal) -> Decimal | None:
    return None if den == 0 else q6(D(num) / D(den))


def _untracked_receipt(session, item, location, qty, when):
    inventory.receive(
        session,
        ReceiptIn(
            vendor="MILL",
            occurred_at=when,
            lines=[{"item": item.sku, "location": location.code, "quantity": D(qty)}],
        ),
    )


def _order(session, number, customer, lines, when):
    return sales.create_order(
        session,
        SalesOrderIn(
            number=number,
            customer=customer.code,
            ordered_at=when,
            lines=[{"item": i.sku, "quantity": D(q), "due_date": d} for i, q, d in lines],
        ),
    )


@pytest.fixture
def ledger(session):
    wh1, wh2 = make_location(session, "WH1"), make_location(session, "WH2")
    make_vendor(session)
    shop, cafe = make_customer(session, "SHOP"), make_customer(session, "CAFE")
    flour = make_item(session, "FLOUR", standard_cost=D(2))
    salt = make_item(session, "SALT", lot_tracked=False, standard_cost=D(1))
    sugar = make_item(session, "SUGAR", standard_cost=D(3))
    oil = make_item(session, "OIL", uom="l", lot_tracked=False, standard_cost=D(5))
    pepper = make_item(session, "PEPPER", standard_cost=D(7))

    receive(session, flour, wh1, "F-1", 100, when=t(10))
    _order(session, "SO-1", shop, [(flour, 20, date(2026, 1, 15)), (pepper, 5, date(2026, 1, 16))], t(9))
    _order(session, "SO-2", shop, [(flour, 40, date(2026, 1, 20))], t(9))
    _order(session, "SO-3", cafe, [(salt, 10, date(2026, 1, 22))], t(9))
    _order(session, "SO-4", cafe, [(flour, 5, date(2026, 2, 10)), (flour, 7, date(2026, 1, 14))], t(9))
    ship(session, "SO-1", [(1, wh1, 20, None)], when=WS)
    ship(session, "SO-2", [(1, wh1, 30, None)], when=t(20))
    ship(session, "SO-2", [(1, wh1, 10, None)], when=WE)

    receive(session, flour, wh2, "F-2", 30, when=t(17, 12))
    inventory.scrap(
        session,
        ScrapIn(
            item="FLOUR",
            location="WH2",
            quantity=D(10),
            lots=[{"lot": "F-2", "quantity": D(10)}],
            occurred_at=t(20),
        ),
    )

    _untracked_receipt(session, salt, wh1, 5, t(12))
    ship(session, "SO-3", [(1, wh1, 10, None)], when=t(22, 18))
    inventory.adjust(
        session,
        AdjustmentIn(
            reason="count", occurred_at=t(24), lines=[{"item": "SALT", "location": "WH1", "quantity": D(5)}]
        ),
    )

    sugar_lot = receive(session, sugar, wh2, "S-1", 40, when=t(10), expires_at=t(18))
    lots_service.change_status(session, sugar_lot, LotStatusChange(status="quarantine", reason="QA"))
    inventory.scrap(
        session,
        ScrapIn(
            item="SUGAR",
            location="WH2",
            quantity=D(15),
            lots=[{"lot": "S-1", "quantity": D(15)}],
            occurred_at=t(19),
        ),
    )

    _untracked_receipt(session, oil, wh1, 5, t(11))
    inventory.scrap(session, ScrapIn(item="OIL", location="WH1", quantity=D(5), occurred_at=t(12)))
    session.flush()
    return {
        "flour": flour,
        "salt": salt,
        "sugar": sugar,
        "oil": oil,
        "pepper": pepper,
        "wh1": wh1,
        "wh2": wh2,
        "shop": shop,
        "cafe": cafe,
    }


# Hand-worked components per series: (qty-days clamped, outflow, stock-out days, negative days,
# negative qty-days, scrapped, expired, held at end, closing, cost). Stock-out / negative days are
# window days (from Jan 15 00:00) whose end-of-day on-hand is <= 0 / < 0.
def expected_series(x):
    return {
        # never below 50
        (x["flour"].id, x["wh1"].id): dict(
            qd=D(80 * 5 + 50 * 5),
            out=D(50),
            so=D(0),
            neg=D(0),
            negqd=D(0),
            scrap=D(0),
            exp=D(0),
            held=D(0),
            close=D(50),
            cost=D(2),
        ),
        # nothing before Jan 17: Jan 15 and 16 end at 0
        (x["flour"].id, x["wh2"].id): dict(
            qd=D("75") + D(100),
            out=D(0),
            so=D(2),
            neg=D(0),
            negqd=D(0),
            scrap=D(10),
            exp=D(0),
            held=D(0),
            close=D(20),
            cost=D(2),
        ),
        # Jan 22 and 23 end at -5, Jan 24 ends at 0
        (x["salt"].id, x["wh1"].id): dict(
            qd=D("38.75"),
            out=D(10),
            so=D(3),
            neg=D(2),
            negqd=D("6.25"),
            scrap=D(0),
            exp=D(0),
            held=D(0),
            close=D(0),
            cost=D(1),
        ),
        # 40 until Jan 19, when 15 of the expired (Jan 18) lot are scrapped: an expiry write-off
        (x["sugar"].id, x["wh2"].id): dict(
            qd=D(40 * 4 + 25 * 6),
            out=D(0),
            so=D(0),
            neg=D(0),
            negqd=D(0),
            scrap=D(15),
            exp=D(15),
            held=D(25),
            close=D(25),
            cost=D(3),
        ),
        (x["oil"].id, x["wh1"].id): dict(
            qd=D(0),
            out=D(0),
            so=D(10),
            neg=D(0),
            negqd=D(0),
            scrap=D(0),
            exp=D(0),
            held=D(0),
            close=D(0),
            cost=D(5),
        ),
    }


def expected_inventory(parts):
    """KPI values from a list of per-series components (sums of 6-place roundings, as stored)."""
    s = {
        k: sum((p[k] for p in parts), D(0))
        for k in ("qd", "out", "so", "neg", "negqd", "scrap", "exp", "held", "close")
    }
    val = lambda k: sum((q6(p[k] * p["cost"]) for p in parts), D(0))  # noqa: E731
    avg_q = sum((q6(p["qd"] / DAYS) for p in parts), D(0))
    avg_v = sum((q6(p["qd"] * p["cost"] / DAYS) for p in parts), D(0))
    out_v = val("out")
    out_q_year = sum((q6(p["out"] * 365 / DAYS) for p in parts), D(0))
    out_v_year = sum((q6(p["out"] * p["cost"] * 365 / DAYS) for p in parts), D(0))
    n = len(parts)
    return {
        "avg_on_hand_qty": avg_q,
        "avg_on_hand_value": avg_v,
        "turns_qty": ratio(s["out"], avg_q),
        "turns_qty_annualised": ratio(out_q_year, avg_q),
        "turns_value": ratio(out_v, avg_v),
        "turns_value_annualised": ratio(out_v_year, avg_v),
        "days_of_inventory_qty": ratio(s["qd"], s["out"]),
        "days_of_inventory_value": ratio(val("qd"), out_v),
        "stockout_days": ratio(s["so"], D(n)),
        "negative_stock_days": ratio(s["neg"], D(n)),
        "negative_on_hand_qty": sum((q6(p["negqd"] / DAYS) for p in parts), D(0)),
        "scrapped_qty": s["scrap"],
        "scrapped_value": val("scrap"),
        "expired_qty": s["exp"],
        "expired_value": val("exp"),
        "held_share_qty": ratio(s["held"], s["close"]),
        "held_share_value": ratio(val("held"), val("close")),
    }


def _values(session, run_id, dims):
    rows = kpis.snapshots(session, run_id, dimensions=dims)
    return {r.kpi_name: r for r in rows if r.dimensions == {k: str(v) for k, v in dims.items()}}


def test_every_inventory_kpi_matches_the_hand_computed_figures_at_every_level(session, ledger):
    x = ledger
    run = kpis.run_kpis(session, RunIn(window_start=WS, window_end=WE))
    assert run.status == "computed"
    series = expected_series(x)
    groups = {"overall": ({}, list(series.values()))}
    for (item_id, loc_id), parts in series.items():
        groups[f"{item_id}/{loc_id}"] = ({"item_id": str(item_id), "location_id": str(loc_id)}, [parts])
    for name in ("flour", "salt", "sugar", "oil"):
        iid = x[name].id
        groups[name] = ({"item_id": str(iid)}, [p for (i, _), p in series.items() if i == iid])
    for name in ("wh1", "wh2"):
        lid = x[name].id
        groups[name] = ({"location_id": str(lid)}, [p for (_, loc), p in series.items() if loc == lid])
    for label, (dims, parts) in groups.items():
        got = _values(session, run.id, dims)
        want = expected_inventory(parts)
        for kpi, value in want.items():
            assert got[kpi].value == value, (label, kpi, got[kpi].value, value)


def test_spot_values_read_as_the_definitions_say(session, ledger):
    x = ledger
    run = kpis.run_kpis(session, RunIn(window_start=WS, window_end=WE))
    flour_wh1 = _values(session, run.id, {"item_id": x["flour"].id, "location_id": x["wh1"].id})
    assert flour_wh1["avg_on_hand_qty"].value == D(65)
    assert flour_wh1["avg_on_hand_qty"].units == "kg"
    assert flour_wh1["days_of_inventory_qty"].value == D(13)  # 650 kg-days / 50 kg
    assert flour_wh1["turns_qty"].value == q6(D(50) / D(65))
    assert flour_wh1["turns_qty_annualised"].value == q6(D("1825") / D(65))
    assert flour_wh1["avg_on_hand_value"].value == D(130)
    salt = _values(session, run.id, {"item_id": x["salt"].id})
    assert salt["avg_on_hand_qty"].value == D("3.875")  # clamped: the -5 for 1.25 days counts as 0
    assert salt["negative_stock_days"].value == D(2)  # the flag
    assert salt["negative_on_hand_qty"].value == D("0.625")
    assert salt["stockout_days"].value == D(3)


def test_undefined_and_infinite_ratios_are_null_with_a_reason_never_zero(session, ledger):
    x = ledger
    run = kpis.run_kpis(session, RunIn(window_start=WS, window_end=WE))
    oil = _values(session, run.id, {"item_id": x["oil"].id})  # no stock, no usage
    assert oil["turns_qty"].value is None
    assert oil["turns_qty"].null_reason == "no stock and no outflow"
    assert oil["turns_qty"].units == "turns per window"
    assert oil["days_of_inventory_qty"].value is None
    assert oil["days_of_inventory_qty"].null_reason == "no stock and no usage"
    assert oil["held_share_qty"].null_reason == "no stock at window end"
    sugar = _values(session, run.id, {"item_id": x["sugar"].id})  # stock, no usage
    assert sugar["days_of_inventory_qty"].value is None
    assert sugar["days_of_inventory_qty"].null_reason == "stock but no usage"
    assert sugar["turns_qty"].value == 0  # no usage with stock is a real zero
    assert sugar["turns_qty"].null_reason is None
    pepper = _values(session, run.id, {"item_id": x["pepper"].id})
    assert "turns_qty" not in pepper  # never stocked: no inventory series at all
    assert pepper["item_line_fill_rate"].value == 0


def test_fill_rates_count_partial_late_and_unshipped_lines_due_in_the_window(session, ledger):
    x = ledger
    run = kpis.run_kpis(session, RunIn(window_start=WS, window_end=WE))
    overall = _values(session, run.id, {})
    # due in window: FLOUR 20 (20 on time), PEPPER 5 (0), FLOUR 40 (30 on time, 10 late), SALT 10 (10)
    assert overall["item_line_fill_rate"].value == q6(D(60) / D(75))
    assert (overall["item_line_fill_rate"].numerator, overall["item_line_fill_rate"].denominator) == (60, 75)
    assert overall["line_fill_rate"].value == D("0.5")
    assert overall["order_fill_rate"].value == q6(D(1) / D(3))
    shop = _values(session, run.id, {"customer_id": x["shop"].id})
    assert shop["item_line_fill_rate"].value == q6(D(50) / D(65))
    assert shop["line_fill_rate"].value == q6(D(1) / D(3))
    assert shop["order_fill_rate"].value == 0
    cafe = _values(session, run.id, {"customer_id": x["cafe"].id})
    assert (
        cafe["item_line_fill_rate"].value,
        cafe["line_fill_rate"].value,
        cafe["order_fill_rate"].value,
    ) == (1, 1, 1)
    flour = _values(session, run.id, {"item_id": x["flour"].id})
    assert flour["item_line_fill_rate"].value == q6(D(50) / D(60))
    assert flour["line_fill_rate"].value == D("0.5")
    assert "order_fill_rate" not in flour  # orders span items: customer and overall only


def test_every_snapshot_has_one_rollup_input_and_the_catalogue_matches(session, ledger):
    run = kpis.run_kpis(session, RunIn(window_start=WS, window_end=WE))
    rows = kpis.snapshots(session, run.id)
    assert {r.kpi_name for r in rows} == set(KPIS)
    for r in rows:
        level = next(k for k, keys in kpis.LEVELS.items() if tuple(sorted(r.dimensions)) == keys)
        assert level in KPIS[r.kpi_name].levels, (r.kpi_name, level)
        assert r.numerator is not None
        if KPIS[r.kpi_name].denominator is None:
            assert r.denominator is None and r.value == r.numerator
        else:
            assert r.denominator is not None
            assert r.value == ratio(r.numerator, r.denominator)


def test_a_window_boundary_on_a_movement_counts_it_on_the_start_side_only(session, ledger):
    x = ledger
    # Window ending exactly at the Jan 15 shipment: the shipment is outside; starting there: inside.
    before = kpis.run_kpis(session, RunIn(window_start=t(14), window_end=WS))
    after = kpis.run_kpis(session, RunIn(window_start=WS, window_end=t(16)))
    dims = {"item_id": x["flour"].id, "location_id": x["wh1"].id}
    b, a = _values(session, before.id, dims), _values(session, after.id, dims)
    assert (b["avg_on_hand_qty"].value, b["turns_qty"].numerator) == (100, 0)
    assert (a["avg_on_hand_qty"].value, a["turns_qty"].numerator) == (80, 20)


def test_as_of_ignores_movements_recorded_later(session, ledger):
    x = ledger
    # Everything in this test is recorded "now"; pretend the Jan 20 shipment was entered an hour
    # later: every record of it (movement, its lines, the shipment) carries the later time, and the
    # derived fill state of the order lines is re-derived from them, as the shipping service does.
    moved = session.execute(
        sa.text(
            "UPDATE inventory_movements SET created_at = now() + interval '1 hour' "
            "WHERE movement_type = 'shipment' AND occurred_at = :t RETURNING id"
        ),
        {"t": t(20)},
    ).scalars().all()
    session.execute(
        sa.text(
            "UPDATE inventory_movement_lines SET created_at = now() + interval '1 hour' "
            "WHERE movement_id = ANY(:ids)"
        ),
        {"ids": moved},
    )
    orders = session.execute(
        sa.text(
            "UPDATE sales_order_shipments SET created_at = now() + interval '1 hour' WHERE shipped_at = :t "
            "RETURNING sales_order_id"
        ),
        {"t": t(20)},
    ).scalars().all()
    assert moved and orders
    sales.refresh_line_fills(session, orders)
    as_of = session.execute(sa.text("SELECT now()")).scalar_one()
    run = kpis.run_kpis(session, RunIn(window_start=WS, window_end=WE, as_of=as_of))
    flour_wh1 = _values(session, run.id, {"item_id": x["flour"].id, "location_id": x["wh1"].id})
    assert flour_wh1["avg_on_hand_qty"].value == D(80)  # the -30 on Jan 20 is not seen
    assert flour_wh1["turns_qty"].numerator == D(20)
    flour = _values(session, run.id, {"item_id": x["flour"].id})
    assert flour["item_line_fill_rate"].value == q6(D(20) / D(60))


def test_an_order_counts_by_its_lines_due_in_the_window_only(session, ledger):
    x = ledger
    deli = make_customer(session, "DELI")
    receive(session, x["flour"], x["wh1"], "F-9", 50, when=t(11))
    # A: line 1 due in the window and shipped on time, line 2 due after it and never shipped.
    _order(session, "SO-A", deli, [(x["flour"], 2, date(2026, 1, 20)), (x["flour"], 3, date(2026, 2, 5))], t(9))
    # B: line 1 due in the window and never shipped, line 2 due after it and shipped early.
    _order(session, "SO-B", deli, [(x["flour"], 2, date(2026, 1, 20)), (x["flour"], 3, date(2026, 2, 5))], t(9))
    # C: one line due in the window, shipped on time.
    _order(session, "SO-C", deli, [(x["flour"], 4, date(2026, 1, 21))], t(9))
    ship(session, "SO-A", [(1, x["wh1"], 2, [("F-9", 2)])], when=t(19))
    ship(session, "SO-B", [(2, x["wh1"], 3, [("F-9", 3)])], when=t(19))
    ship(session, "SO-C", [(1, x["wh1"], 4, [("F-9", 4)])], when=t(21))

    # [Jan 15, Jan 25): A and B straddle the window end; A's line in the window is complete.
    inside = kpis.run_kpis(session, RunIn(window_start=WS, window_end=WE))
    orders = _values(session, inside.id, {"customer_id": deli.id})["order_fill_rate"]
    lines = _values(session, inside.id, {"customer_id": deli.id})["line_fill_rate"]
    assert (orders.numerator, orders.denominator) == (2, 3)  # A and C
    assert (lines.numerator, lines.denominator) == (2, 3)  # A/1, C/1 of A/1, B/1, C/1

    # [Jan 15, Feb 10): every line of A, B and C is due in the window; only C is complete.
    whole = kpis.run_kpis(session, RunIn(window_start=WS, window_end=datetime(2026, 2, 10, tzinfo=UTC)))
    orders = _values(session, whole.id, {"customer_id": deli.id})["order_fill_rate"]
    assert (orders.numerator, orders.denominator) == (1, 3)
