"""Two real connections racing (committed transactions, no test savepoints).

The deterministic tests hold the first transaction open until the second one is seen *waiting on a
lock* in pg_stat_activity, then let the first commit: the second must then see the committed result
and refuse with a domain error. Without the locks, the second would read stale stock or open
quantity and either overdraw (caught only by the database CHECK, as a different error) or
double-ship.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.errors import InsufficientQuantity, LotNotReleased, OverShipment
from lotline.inventory import service as inventory
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.models import InventoryBalance, Item, Location, Lot, SalesOrderShipment, SalesOrderShipmentLine
from lotline.production import service as production
from lotline.production.schemas import WorkOrderIn
from tests.builders import (
    at,
    execute,
    make_customer,
    make_item,
    make_location,
    make_vendor,
    order,
    receive,
    ship,
)
from tests.racing import TIMEOUT, Racer, lock_waiters, race
from tests.sales.conftest import FILL_DRIFT

pytestmark = pytest.mark.concurrency
D = Decimal


def _setup(stock: int, orders: list[tuple[str, list[int]]]):
    with db.transaction() as s:
        flour = make_item(s, "FLOUR")
        wh = make_location(s, "WH1")
        make_vendor(s)
        shop = make_customer(s)
        receive(s, flour, wh, "F-1", stock)
        for number, qtys in orders:
            order(s, number, shop, [(flour, q, None) for q in qtys])
    return flour, wh


def _stock(engine) -> list[Decimal]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(InventoryBalance.quantity).where(InventoryBalance.lot_id.isnot(None))
            ).scalars()
        )


@pytest.mark.parametrize("named", [True, False], ids=["named-lot", "fefo"])
def test_two_sessions_racing_for_the_last_units_of_a_lot_exactly_one_wins(committed_engine, named):
    _setup(10, [("SO-A", [10]), ("SO-B", [10])])
    lots = [("F-1", 10)] if named else None
    first, second = race(
        committed_engine,
        lambda s: ship(s, "SO-A", [(1, _wh(s), 10, lots)]),
        lambda s: ship(s, "SO-B", [(1, _wh(s), 10, lots)]),
    )
    assert first.error is None
    assert isinstance(second.error, InsufficientQuantity), repr(second.error)
    assert _stock(committed_engine) == [D(0)]
    with committed_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(SalesOrderShipment)).scalar_one() == 1


def test_two_shipments_of_the_last_open_quantity_of_one_order_line_exactly_one_wins(committed_engine):
    # Line 2 stays open so the order is not closed by the winner: the loser must see OverShipment.
    _setup(30, [("SO-1", [10, 5])])
    first, second = race(
        committed_engine,
        lambda s: ship(s, "SO-1", [(1, _wh(s), 10, None)]),
        lambda s: ship(s, "SO-1", [(1, _wh(s), 10, None)]),
    )
    assert first.error is None
    assert isinstance(second.error, OverShipment), repr(second.error)
    with committed_engine.connect() as conn:
        shipped = conn.execute(sa.select(sa.func.sum(SalesOrderShipmentLine.quantity))).scalar_one()
    assert shipped == D(10)
    assert _stock(committed_engine) == [D(20)]


def test_two_shipments_of_one_order_racing_leave_its_fill_state_complete_and_exact(committed_engine):
    # The order lock serialises them; the second re-derives the order's fill state after the first
    # committed, so the order-level figures (all lines filled) see both shipments.
    _setup(30, [("SO-1", [10, 5])])
    first, second = race(
        committed_engine,
        lambda s: ship(s, "SO-1", [(1, _wh(s), 10, None)]),
        lambda s: ship(s, "SO-1", [(2, _wh(s), 5, None)]),
    )
    assert first.error is None and second.error is None
    with committed_engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT filled_quantity, order_complete FROM sales_order_line_fills ORDER BY quantity_ordered")
        ).all()
        drift = conn.execute(FILL_DRIFT).scalar_one()
    assert [tuple(r) for r in rows] == [(D(5), True), (D(10), True)] and drift == 0


def test_free_races_never_overdraw_a_lot(committed_engine):
    """No orchestration: two threads start together, repeatedly; exactly one of each pair wins."""
    _setup(1, [(f"SO-{n}", [5]) for n in range(12)])
    with db.transaction() as s:
        flour = s.scalar(sa.select(Lot.item_id))
    for rnd in range(6):
        with db.transaction() as s:
            receive(s, s.get(Item, flour), s.scalar(sa.select(Location)), f"R-{rnd}", 5, when=at(1))
        barrier = threading.Barrier(2)

        def go(s, n, code=f"R-{rnd}", barrier=barrier):
            barrier.wait(TIMEOUT)
            return ship(s, f"SO-{n}", [(1, _wh(s), 4, [(code, 4)])])

        racers = [Racer(lambda s, n=2 * rnd + k: go(s, n)) for k in range(2)]
        for r in racers:
            r.start()
        for r in racers:
            r.join(TIMEOUT)
        outcomes = sorted(type(r.error).__name__ for r in racers)
        assert outcomes == ["InsufficientQuantity", "NoneType"], [repr(r.error) for r in racers]
    assert min(_stock(committed_engine)) >= 0
    assert sorted(_stock(committed_engine)) == [D(1)] * 7


def _wh(s):
    return s.scalar(sa.select(Location).where(Location.code == "WH1"))


@pytest.mark.parametrize("named", [True, False], ids=["named-lot", "fefo"])
def test_a_shipment_racing_a_lot_block_sees_the_block(committed_engine, named):
    _setup(10, [("SO-A", [5])])
    lots = [("F-1", 5)] if named else None
    first, second = race(
        committed_engine,
        lambda s: lots_service.change_status(
            s, lots_service.find_lot(s, "F-1"), LotStatusChange(status="blocked", reason="test")
        ),
        lambda s: ship(s, "SO-A", [(1, _wh(s), 5, lots)]),
    )
    assert first.error is None
    assert isinstance(second.error, LotNotReleased), repr(second.error)
    assert _stock(committed_engine) == [D(10)]


def _ship_both(s, number, first, second):
    return ship(s, number, [(1, _wh(s), 2, None), (2, _wh(s), 2, None)])


def _consume_both(s, number, first, second):
    wh = _wh(s)
    return execute(
        s,
        number,
        first,
        [(first, wh, 2, None), (second, wh, 2, None)],
        [(wh, 1, f"C-{number}")],
        create=False,
    )


@pytest.mark.parametrize("post", [_ship_both, _consume_both], ids=["shipments", "executions"])
def test_two_multi_line_postings_taking_items_in_opposite_order_both_post(
    committed_engine, monkeypatch, post
):
    """Posting 1 takes BREAD then FLOUR, posting 2 FLOUR then BREAD (FEFO, lots not named).

    Posting 1 is paused after allocating its first line while posting 2 runs. If each line locked
    its stock only when allocated, the two would lock in opposite orders and deadlock (one then
    fails with ConcurrencyConflict); locking all lines' stock up front in one order, both post.
    """
    with db.transaction() as s:
        flour, bread = make_item(s, "FLOUR"), make_item(s, "BREAD", uom="ea")
        wh = make_location(s, "WH1")
        make_vendor(s)
        shop = make_customer(s)
        receive(s, flour, wh, "F-1", 10)
        receive(s, bread, wh, "B-1", 10)
        order(s, "SO-1", shop, [(bread, 2, None), (flour, 2, None)])
        order(s, "SO-2", shop, [(flour, 2, None), (bread, 2, None)])
        for number in ("SO-1", "SO-2"):
            production.create_work_order(s, WorkOrderIn(number=number, item="BREAD", planned_quantity=D(1)))

    first_line_done, go_on = threading.Event(), threading.Event()
    real = inventory.outbound_lots

    def paused(*args, **kw):
        result = real(*args, **kw)
        if threading.current_thread().name == "posting-1" and not first_line_done.is_set():
            first_line_done.set()
            go_on.wait(TIMEOUT)
        return result

    monkeypatch.setattr(inventory, "outbound_lots", paused)
    one = Racer(lambda s: post(s, "SO-1", s.get(Item, bread.id), s.get(Item, flour.id)))
    one.name = "posting-1"
    two = Racer(lambda s: post(s, "SO-2", s.get(Item, flour.id), s.get(Item, bread.id)))
    one.start()
    assert first_line_done.wait(TIMEOUT), one.error
    two.start()
    # Let posting 1 continue once posting 2 has either finished or is waiting for posting 1.
    deadline = time.monotonic() + TIMEOUT
    while two.is_alive() and time.monotonic() < deadline and not lock_waiters(committed_engine):
        time.sleep(0.02)
    go_on.set()
    one.join(TIMEOUT)
    two.join(TIMEOUT)
    assert (one.error, two.error) == (None, None)
    assert sorted(q for q in _stock(committed_engine) if q != 1) == [D(6), D(6)]
