"""Property tests on random ledgers (rows inserted directly, so any shape — including negative stock
— is reachable quickly):

- rolling up the finer rollup inputs (per item, per location, per item x location, per customer)
  as sum(numerator) / sum(denominator) reproduces the stored overall value exactly;
- every item x location average on-hand equals a brute-force Python walk of the step function
  (clamped at zero), whichever SQL path (one-pass aggregate or walk) computed it, and its stock-out
  and negative days equal a day-by-day recount.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotline.kpis import service as kpis
from lotline.kpis.schemas import KPIS, RunIn
from lotline.sales import service as sales

WS = datetime(2026, 1, 15, tzinfo=UTC)
WE = datetime(2026, 1, 25, tzinfo=UTC)
WINDOW_MIN = 10 * 24 * 60

# minutes from WS; the boundaries themselves are drawn often
offsets = st.one_of(
    st.sampled_from([0, WINDOW_MIN, -1, 1, WINDOW_MIN - 1]),
    st.integers(min_value=-3 * 24 * 60, max_value=WINDOW_MIN + 2 * 24 * 60),
)
events = st.lists(
    st.tuples(
        st.integers(0, 2),  # item
        st.integers(0, 1),  # location
        offsets,
        st.integers(-20, 30).filter(lambda q: q != 0),
        st.sampled_from(["usage", "scrap", "adjustment"]),
    ),
    max_size=25,
)
orders = st.lists(
    st.tuples(
        st.integers(0, 1),  # customer
        st.lists(
            st.tuples(
                st.integers(0, 2),  # item
                st.integers(1, 20),  # ordered
                st.integers(-2, 11),  # due day from Jan 15
                st.lists(st.tuples(st.integers(1, 15), st.integers(-3, 14)), max_size=2),  # (qty, ship day)
            ),
            min_size=1,
            max_size=3,
        ),
    ),
    max_size=5,
)
costs = st.lists(st.decimals(min_value=0, max_value=50, places=2), min_size=3, max_size=3)


def q6(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _insert(session, evs, ords, item_costs):
    ids = lambda: uuid.uuid4()  # noqa: E731
    items = [ids() for _ in range(3)]
    locs = [ids() for _ in range(2)]
    custs = [ids() for _ in range(2)]
    vendor = ids()
    x = sa.text
    session.execute(
        x("INSERT INTO vendors (id, code, name) VALUES (:id, :c, :c)"),
        {"id": vendor, "c": f"V{vendor.hex[:8]}"},
    )
    for n, (i, cost) in enumerate(zip(items, item_costs, strict=True)):
        session.execute(
            x(
                "INSERT INTO items (id, sku, name, uom, lot_tracked, standard_cost) VALUES (:id, :s, :s, :u, false, :c)"
            ),
            {"id": i, "s": f"P{i.hex[:10]}", "u": "kg" if n < 2 else "ea", "c": cost},
        )
    for loc in locs:
        session.execute(
            x("INSERT INTO locations (id, code, name, kind) VALUES (:id, :c, :c, 'storage')"),
            {"id": loc, "c": f"L{loc.hex[:10]}"},
        )
    for c in custs:
        session.execute(
            x("INSERT INTO customers (id, code, name) VALUES (:id, :c, :c)"), {"id": c, "c": f"C{c.hex[:10]}"}
        )

    ledger = []  # (item, loc, time, qty)

    def movement(kind, when, item, loc, qty, customer=None):
        mid, lid = ids(), ids()
        session.execute(
            x(
                "INSERT INTO inventory_movements (id, movement_type, occurred_at, vendor_id, customer_id) VALUES (:id, :k, :t, :v, :c)"
            ),
            {"id": mid, "k": kind, "t": when, "v": vendor if kind == "receipt" else None, "c": customer},
        )
        session.execute(
            x(
                "INSERT INTO inventory_movement_lines (id, movement_id, line_no, item_id, location_id, uom, quantity_delta,"
                " occurred_at, movement_type) VALUES (:id, :m, 1, :i, :l, 'kg', :q, :t, :k)"
            ),
            {"id": lid, "m": mid, "i": items[item], "l": locs[loc], "q": qty, "t": when, "k": kind},
        )
        ledger.append((item, loc, when, Decimal(qty)))
        return mid, lid

    for item, loc, minutes, qty, kind in evs:
        when = WS + timedelta(minutes=minutes)
        if qty > 0:
            movement("receipt" if kind != "adjustment" else "adjustment", when, item, loc, qty)
        else:
            k = {"usage": "production_consume", "scrap": "scrap", "adjustment": "adjustment"}[kind]
            movement(k, when, item, loc, qty)
    orders = []
    for n, (cust, lines) in enumerate(ords):
        oid = ids()
        orders.append(oid)
        session.execute(
            x("INSERT INTO sales_orders (id, number, customer_id, ordered_at) VALUES (:id, :n, :c, :t)"),
            {"id": oid, "n": f"SO{oid.hex[:12]}{n}", "c": custs[cust], "t": WS - timedelta(days=5)},
        )
        for no, (item, ordered, due, ships) in enumerate(lines, start=1):
            sol = ids()
            session.execute(
                x(
                    "INSERT INTO sales_order_lines (id, sales_order_id, line_no, item_id, uom, quantity_ordered, due_date) VALUES (:id, :o, :n, :i, 'kg', :q, :d)"
                ),
                {
                    "id": sol,
                    "o": oid,
                    "n": no,
                    "i": items[item],
                    "q": ordered,
                    "d": date(2026, 1, 15) + timedelta(days=due),
                },
            )
            for qty, day in ships:
                when = WS + timedelta(days=day, hours=12)
                mid, lid = movement("shipment", when, item, 0, -qty, customer=custs[cust])
                shid = ids()
                session.execute(
                    x(
                        "INSERT INTO sales_order_shipments (id, sales_order_id, customer_id, shipped_at, inventory_movement_id) VALUES (:id, :o, :c, :t, :m)"
                    ),
                    {"id": shid, "o": oid, "c": custs[cust], "t": when, "m": mid},
                )
                session.execute(
                    x(
                        "INSERT INTO sales_order_shipment_lines (id, sales_order_shipment_id, sales_order_line_id, inventory_movement_line_id, quantity) VALUES (:id, :s, :l, :m, :q)"
                    ),
                    {"id": ids(), "s": shid, "l": sol, "m": lid, "q": qty},
                )
    sales.refresh_line_fills(session, orders)  # the derived fill state, as the service keeps it
    return items, locs, ledger


def _brute_force_avg(ledger, item, loc) -> Decimal:
    rows = sorted((t, q) for i, loc_, t, q in ledger if i == item and loc_ == loc and t < WE)
    level = sum((q for t, q in rows if t < WS), Decimal(0))
    clock, integral = WS, Decimal(0)
    for t, q in rows:
        if t < WS:
            continue
        integral += max(level, Decimal(0)) * Decimal((t - clock).total_seconds())
        clock, level = t, level + q
    integral += max(level, Decimal(0)) * Decimal((WE - clock).total_seconds())
    return q6(integral / Decimal((WE - WS).total_seconds()))


def _brute_force_days(ledger, item, loc) -> tuple[Decimal, Decimal]:
    """(stock-out days, negative days): window days whose end-of-day level is <= 0 / < 0."""
    out = neg = 0
    for k in range(10):
        end = WS + timedelta(days=k + 1)
        level = sum((q for i, loc_, t, q in ledger if i == item and loc_ == loc and t < end), Decimal(0))
        out += level <= 0
        neg += level < 0
    return Decimal(out), Decimal(neg)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(evs=events, ords=orders, item_costs=costs)
def test_rollups_reproduce_the_overall_value_and_on_hand_matches_a_brute_force_walk(
    session, evs, ords, item_costs
):
    nested = session.begin_nested()
    try:
        items, locs, ledger = _insert(session, evs, ords, item_costs)
        run = kpis.run_kpis(session, RunIn(window_start=WS, window_end=WE))
        rows = kpis.snapshots(session, run.id)
        overall = {r.kpi_name: r for r in rows if r.dimensions == {}}
        assert set(overall) == set(KPIS)
        for name, kdef in KPIS.items():
            for level in kdef.levels:
                if level == "overall":
                    continue
                num, den, value = kpis.rollup(session, run.id, name, level=level)
                assert value == overall[name].value, (name, level, num, den, value, overall[name])
                if kdef.denominator is not None:
                    assert (num or 0, den or 0) == (overall[name].numerator, overall[name].denominator)
        # per item: its item x location inputs reproduce the per-item figure
        by_item = defaultdict(lambda: [Decimal(0), Decimal(0), False])
        for r in rows:
            if set(r.dimensions) == {"item_id", "location_id"} and r.kpi_name == "turns_qty":
                acc = by_item[r.dimensions["item_id"]]
                acc[0] += r.numerator
                acc[1] += r.denominator
        for r in rows:
            if set(r.dimensions) == {"item_id"} and r.kpi_name == "turns_qty":
                num, den, _ = by_item[r.dimensions["item_id"]]
                assert r.value == (None if den == 0 else kpis.round_ratio(num, den))
        # on-hand: the stored figure is the clamped step-function integral
        avg = {
            (r.dimensions["item_id"], r.dimensions["location_id"]): r.value
            for r in rows
            if r.kpi_name == "avg_on_hand_qty" and set(r.dimensions) == {"item_id", "location_id"}
        }
        for (i, loc), value in avg.items():
            item, location = items.index(uuid.UUID(i)), locs.index(uuid.UUID(loc))
            assert value == _brute_force_avg(ledger, item, location), (item, location)
        days = {
            (r.kpi_name, r.dimensions["item_id"], r.dimensions["location_id"]): r.value
            for r in rows
            if r.kpi_name in ("stockout_days", "negative_stock_days")
            and set(r.dimensions) == {"item_id", "location_id"}
        }
        for i, loc in avg:
            item, location = items.index(uuid.UUID(i)), locs.index(uuid.UUID(loc))
            out, neg = _brute_force_days(ledger, item, location)
            assert (days[("stockout_days", i, loc)], days[("negative_stock_days", i, loc)]) == (out, neg)
        series_seen = {(i, loc_) for i, loc_, t, _ in ledger if t < WE}
        assert len(avg) == len(series_seen)
    finally:
        nested.rollback()
