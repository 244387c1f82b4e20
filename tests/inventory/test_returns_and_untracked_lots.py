"""A customer returns at most what they were shipped of a lot, less what they already returned; and lot
rows on an untracked item get one answer (allocation_mismatch, 422) wherever they are given."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lotline.errors import AllocationMismatch, OverReturn
from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ReturnIn, ReversalIn
from tests.builders import at, make_customer, order, receive, ship
from tests.support import balance, refused_without_writes

D = Decimal


def _return(session, qty, *, customer="SHOP", lot="B-1", when=None):
    return inventory.return_goods(
        session,
        ReturnIn(
            customer=customer,
            occurred_at=when or at(3),
            lines=[
                {
                    "item": "FLOUR",
                    "location": "QUAR",
                    "quantity": D(qty),
                    "lots": [{"lot": lot, "quantity": D(qty)}],
                }
            ],
        ),
    )


@pytest.fixture
def shipped_4(session, w):
    """SHOP was shipped 4 of lot B-1 (at(2)); lot B-2 was never shipped to anyone."""
    receive(session, w.flour, w.wh1, "B-1", 10)
    receive(session, w.flour, w.wh1, "B-2", 10)
    order(session, "SO-1", w.customer, [(w.flour, 4, None)])
    ship(session, "SO-1", [(1, w.wh1, 4, [("B-1", 4)])])
    return w


def test_returning_more_than_was_shipped_is_refused(session, shipped_4):
    with refused_without_writes(
        session,
        OverReturn,
        match="customer SHOP was shipped 4 kg of lot B-1 .* has returned 0; 100 cannot come back",
    ) as tx:
        _return(tx, 100)


def test_returning_a_lot_the_customer_never_received_is_refused(session, shipped_4):
    with refused_without_writes(session, OverReturn, match="shipped 0 kg of lot B-2") as tx:
        _return(tx, 1, lot="B-2")


def test_another_customer_cannot_return_what_was_shipped_to_the_first(session, shipped_4):
    make_customer(session, "CAFE")
    with refused_without_writes(session, OverReturn, match="customer CAFE was shipped 0") as tx:
        _return(tx, 1, customer="CAFE")


def test_returns_add_up_to_at_most_what_was_shipped(session, shipped_4):
    _return(session, 3)
    with refused_without_writes(session, OverReturn, match="has returned 3; 2 cannot come back") as tx:
        _return(tx, 2)
    _return(session, 1)
    assert balance(session, shipped_4.flour, shipped_4.quar, _lot(session)) == 4


def test_a_return_before_the_shipment_is_refused(session, shipped_4):
    with refused_without_writes(session, OverReturn, match="shipped 0 kg of lot B-1 by") as tx:
        _return(tx, 1, when=at(1))


def test_a_reversed_return_can_be_returned_again(session, shipped_4):
    posted = _return(session, 4)
    inventory.reverse(session, posted.movement.id, ReversalIn(reason="wrong customer", occurred_at=at(4)))
    _return(session, 4, when=at(5))


def _lot(session, code="B-1"):
    from lotline.lots import service as lots_service

    return lots_service.find_lot(session, code)


# --- lots on an untracked item: one rule, one error ------------------------------------------------


def test_an_adjustment_with_lots_on_an_untracked_item_is_an_allocation_mismatch(session, w):
    data = AdjustmentIn(
        reason="count",
        occurred_at=at(1),
        lines=[
            {"item": "SALT", "location": "WH1", "quantity": D(1), "lots": [{"lot": "NOPE", "quantity": D(1)}]}
        ],
    )
    with refused_without_writes(
        session, AllocationMismatch, match="item SALT is not lot-tracked and takes no lots"
    ) as tx:
        inventory.adjust(tx, data)


def test_a_return_with_lots_on_an_untracked_item_is_an_allocation_mismatch(session, w):
    data = ReturnIn(
        customer="SHOP",
        occurred_at=at(1),
        lines=[
            {"item": "SALT", "location": "WH1", "quantity": D(1), "lots": [{"lot": "NOPE", "quantity": D(1)}]}
        ],
    )
    with refused_without_writes(
        session, AllocationMismatch, match="item SALT is not lot-tracked and takes no lots"
    ) as tx:
        inventory.return_goods(tx, data)


def test_a_receipt_with_lots_on_an_untracked_item_gives_the_same_error(session, w):
    data = ReceiptIn(
        vendor="MILL",
        occurred_at=at(1),
        lines=[
            {
                "item": "SALT",
                "location": "WH1",
                "quantity": D(1),
                "lots": [{"lot_code": "S-1", "quantity": D(1)}],
            }
        ],
    )
    with refused_without_writes(
        session, AllocationMismatch, match="item SALT is not lot-tracked and takes no lots"
    ) as tx:
        inventory.receive(tx, data)


@pytest.mark.parametrize(
    ("path", "lots"),
    [("/adjustments", {"lot": "NOPE", "quantity": "1"}), ("/receipts", {"lot_code": "S-1", "quantity": "1"})],
)
def test_the_api_answers_422_allocation_mismatch_for_lots_on_an_untracked_item(client, path, lots):
    for p, body in [
        ("/items", {"sku": "SALT", "name": "Salt", "uom": "kg", "lot_tracked": False}),
        ("/locations", {"code": "WH", "name": "Warehouse"}),
        ("/vendors", {"code": "MILL", "name": "Mill"}),
    ]:
        assert client.post(p, json=body).status_code == 201
    line = {"item": "SALT", "location": "WH", "quantity": "1", "lots": [lots]}
    body = (
        {"reason": "count", "lines": [line]}
        if path == "/adjustments"
        else {"vendor": "MILL", "lines": [line]}
    )
    r = client.post(path, json=body)
    assert (r.status_code, r.json()["code"]) == (422, "allocation_mismatch")
    assert "SALT is not lot-tracked" in r.json()["detail"]
