"""A shipment posts the shipment movement, fills order lines and links every shipped lot row."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from lotline.errors import (
    AllocationMismatch,
    InsufficientQuantity,
    InvalidInput,
    InvalidStateTransition,
    OverShipment,
    WrongLotItem,
)
from lotline.lots.service import find_lot
from lotline.models import (
    InventoryMovement,
    SalesOrder,
    SalesOrderShipment,
    SalesOrderShipmentLine,
    ShipmentLotLink,
)
from lotline.sales import service as sales
from tests.builders import at, order, receive, ship
from tests.sales.conftest import FILL_DRIFT
from tests.support import balance, count, database_state, lot_rows_of, refused_without_writes, run

D = Decimal


def _stock(session, w):
    receive(session, w.milk, w.wh1, "M-1", 4, expires_at=at(8))
    receive(session, w.milk, w.wh1, "M-2", 10, expires_at=at(9))
    receive(session, w.flour, w.wh1, "F-1", 10)


def test_a_shipment_links_every_shipped_lot_row(session, w):
    _stock(session, w)
    order(session, "SO-1", w.customer, [(w.milk, 6, None), (w.flour, 3, None)])
    done = ship(session, "SO-1", [(1, w.wh1, 6, None), (2, w.wh1, 3, [("F-1", 3)])])
    rows = lot_rows_of(session, done.shipment.inventory_movement_id)
    assert len(rows) == 3  # M-1 4, M-2 2 (FEFO), F-1 3
    linked = set(
        session.scalars(
            sa.select(ShipmentLotLink.inventory_movement_lot_id).where(
                ShipmentLotLink.sales_order_shipment_id == done.shipment.id
            )
        )
    )
    assert linked == {r.id for r in rows}


def test_a_shipment_records_customer_movement_and_the_order_line_each_line_fills(session, w):
    _stock(session, w)
    so = order(session, "SO-1", w.customer, [(w.milk, 6, None), (w.flour, 3, None)])
    done = ship(session, "SO-1", [(2, w.wh1, 3, [("F-1", 3)]), (1, w.wh1, 6, None)], when=at(2))
    shipment = session.get(SalesOrderShipment, done.shipment.id)
    movement = session.get(InventoryMovement, shipment.inventory_movement_id)
    assert (shipment.sales_order_id, shipment.customer_id, shipment.shipped_at) == (
        so.id,
        w.customer.id,
        at(2),
    )
    assert (movement.movement_type, movement.customer_id, movement.occurred_at) == (
        "shipment",
        w.customer.id,
        at(2),
    )
    filled = {
        (ln["line"].line_no, ln["shipped"], ln["open"])
        for ln in sales.order_lines(session, session.get(SalesOrder, so.id))
    }
    assert filled == {(1, D(6), D(0)), (2, D(3), D(0))}
    per_line = session.execute(
        sa.select(SalesOrderShipmentLine.quantity, SalesOrderShipmentLine.inventory_movement_line_id).where(
            SalesOrderShipmentLine.sales_order_shipment_id == shipment.id
        )
    ).all()
    assert sorted(q for q, _ in per_line) == [D(3), D(6)]
    assert {m for _, m in per_line} == {ln.id for ln in done.posted.lines}


def test_a_shipment_without_named_lots_ships_the_first_expiring_first(session, w):
    _stock(session, w)
    order(session, "SO-1", w.customer, [(w.milk, 6, None)])
    ship(session, "SO-1", [(1, w.wh1, 6, None)])
    assert balance(session, w.milk, w.wh1, find_lot(session, "M-1")) == 0
    assert balance(session, w.milk, w.wh1, find_lot(session, "M-2")) == 8


def test_shipping_more_than_ordered_is_refused(session, w):
    _stock(session, w)
    order(session, "SO-1", w.customer, [(w.flour, 3, None)])
    with refused_without_writes(
        session, OverShipment, match=r"SO-1 line 1 \(FLOUR\): 4.* requested but only 3"
    ) as tx:
        ship(tx, "SO-1", [(1, w.wh1, 4, [("F-1", 4)])])


def test_shipping_more_than_ordered_across_two_shipments_is_refused(session, w):
    _stock(session, w)
    order(session, "SO-1", w.customer, [(w.flour, 5, None), (w.milk, 1, None)])
    ship(session, "SO-1", [(1, w.wh1, 3, [("F-1", 3)])])
    with refused_without_writes(session, OverShipment, match="only 2.* of 5.* remain") as tx:
        ship(tx, "SO-1", [(1, w.wh1, 3, [("F-1", 3)])])
    ship(session, "SO-1", [(1, w.wh1, 2, [("F-1", 2)])])


def test_two_lines_of_one_shipment_together_cannot_overship_an_order_line(session, w):
    _stock(session, w)
    order(session, "SO-1", w.customer, [(w.milk, 5, None)])
    with refused_without_writes(session, OverShipment, match="6.* requested") as tx:
        ship(tx, "SO-1", [(1, w.wh1, 3, [("M-1", 3)]), (1, w.wh1, 3, [("M-2", 3)])])


def test_a_fully_shipped_order_is_closed_and_ships_no_more(session, w):
    _stock(session, w)
    so = order(session, "SO-1", w.customer, [(w.flour, 5, None), (w.milk, 2, None)])
    ship(session, "SO-1", [(1, w.wh1, 5, [("F-1", 5)])])
    assert session.get(SalesOrder, so.id).status == "open"
    ship(session, "SO-1", [(2, w.wh1, 2, None)])
    session.expire_all()
    assert session.get(SalesOrder, so.id).status == "closed"
    with refused_without_writes(session, InvalidStateTransition, match="SO-1 is closed") as tx:
        ship(tx, "SO-1", [(1, w.wh1, 1, [("F-1", 1)])])


def test_shipping_a_lot_of_another_item_is_refused(session, w):
    _stock(session, w)
    milk_lot = receive(session, w.milk, w.wh1, "M-9", 5)
    order(session, "SO-1", w.customer, [(w.flour, 5, None)])
    with refused_without_writes(
        session, WrongLotItem, match="lot M-9 belongs to another item, not FLOUR"
    ) as tx:
        ship(tx, "SO-1", [(1, w.wh1, 2, [(str(milk_lot.id), 2)])])


def test_shipping_a_lot_from_a_location_that_does_not_hold_it_is_refused(session, w):
    _stock(session, w)
    order(session, "SO-1", w.customer, [(w.flour, 5, None)])
    with refused_without_writes(session, InsufficientQuantity, match="F-1 of FLOUR has 0 kg at WH2") as tx:
        ship(tx, "SO-1", [(1, w.wh2, 2, [("F-1", 2)])])


def test_shipping_an_order_line_that_does_not_exist_is_refused(session, w):
    _stock(session, w)
    order(session, "SO-1", w.customer, [(w.flour, 5, None)])
    with refused_without_writes(session, InvalidInput, match="SO-1 has no line 2") as tx:
        ship(tx, "SO-1", [(2, w.wh1, 2, None)])


def test_a_replayed_shipment_returns_the_original(session, w):
    _stock(session, w)
    order(session, "SO-1", w.customer, [(w.flour, 5, None)])
    first = run(session, lambda tx: ship(tx, "SO-1", [(1, w.wh1, 2, None)], external_ref="ASN-1"))
    state = database_state(session)
    again = run(session, lambda tx: ship(tx, "SO-1", [(1, w.wh1, 2, None)], external_ref="ASN-1"))
    assert again.replayed and not first.replayed
    assert again.shipment.id == first.shipment.id
    assert again.posted.movement.id == first.posted.movement.id
    assert database_state(session) == state
    assert count(session, SalesOrderShipment) == 1


def test_named_lots_must_cover_exactly_the_shipped_quantity(session, w):
    _stock(session, w)
    order(session, "SO-1", w.customer, [(w.milk, 6, None)])
    with refused_without_writes(session, AllocationMismatch, match="sum to -5.*line's quantity is -6") as tx:
        ship(tx, "SO-1", [(1, w.wh1, 6, [("M-1", 3), ("M-2", 2)])])


def test_a_shipment_writes_one_lot_shipments_row_per_lot_with_the_summed_quantity(session):
    """The derived lot -> shipment table the trace reads agrees with shipment_lot_links."""
    import sqlalchemy as sa

    from lotline.models import LotShipment
    from tests.builders import make_customer, make_item, make_location, make_vendor, order, receive, ship

    bread = make_item(session, "BREAD-LS", uom="ea")
    wh, wh2 = make_location(session, "LS-WH1"), make_location(session, "LS-WH2")
    make_vendor(session, "LS-MILL")
    shop = make_customer(session, "LS-SHOP")
    receive(session, bread, wh, "L1", 10, vendor="LS-MILL")
    receive(session, bread, wh2, "L1B", 10, vendor="LS-MILL")
    order(session, "SO-LS", shop, [(bread, 12, None), (bread, 5, None)])
    shipped = ship(session, "SO-LS", [(1, wh, 7, [("L1", 7)]), (2, wh, 2, [("L1", 2)]), (1, wh2, 4, [("L1B", 4)])])
    rows = session.scalars(
        sa.select(LotShipment).where(LotShipment.sales_order_shipment_id == shipped.shipment.id)
    ).all()
    got = sorted((r.quantity, r.sales_order_number, r.customer_id) for r in rows)
    assert got == [(4, "SO-LS", shop.id), (9, "SO-LS", shop.id)]


def _fill_state(session, order_number):
    """(line_no, filled_quantity, has a recorded shipment) per line, and whether the view agrees."""
    rows = session.execute(
        sa.text(
            "SELECT sol.line_no, f.filled_quantity, f.last_shipment_recorded_at IS NOT NULL"
            "  FROM sales_order_line_fills f"
            "  JOIN sales_order_lines sol ON sol.id = f.sales_order_line_id"
            "  JOIN sales_orders so ON so.id = sol.sales_order_id"
            " WHERE so.number = :n ORDER BY sol.line_no"
        ),
        {"n": order_number},
    ).all()
    drift = session.execute(FILL_DRIFT).scalar_one()
    return [tuple(r) for r in rows], drift


def test_the_fill_state_of_a_line_counts_what_shipped_by_the_end_of_its_due_date(session, w):
    _stock(session, w)
    due = date(2026, 1, 7)  # shipments from 2026-01-08 00:00 UTC on are late
    order(session, "SO-1", w.customer, [(w.milk, 10, due), (w.flour, 5, due)])
    assert _fill_state(session, "SO-1") == ([(1, D(0), False), (2, D(0), False)], 0)

    ship(session, "SO-1", [(1, w.wh1, 4, None)], when=datetime(2026, 1, 7, 23, 59, tzinfo=UTC))  # on time
    ship(session, "SO-1", [(1, w.wh1, 6, None)], when=datetime(2026, 1, 8, tzinfo=UTC))  # exactly late
    assert _fill_state(session, "SO-1") == ([(1, D(4), True), (2, D(0), False)], 0)
    ship(session, "SO-1", [(2, w.wh1, 5, [("F-1", 5)])], when=datetime(2026, 1, 6, tzinfo=UTC))  # back-dated, early

    assert _fill_state(session, "SO-1") == ([(1, D(4), True), (2, D(5), True)], 0)
