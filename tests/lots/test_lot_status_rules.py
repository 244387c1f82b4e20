"""Stock in a lot that is not released — or whose expiry has passed at the movement's time — cannot be
shipped or consumed; it may still be moved to a quarantine or scrap location, or scrapped."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pydantic
import pytest

from lotline.errors import InsufficientQuantity, InvalidInput, InvalidStateTransition, LotNotReleased
from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ReversalIn, ScrapIn, TransferIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.models import Lot
from tests.builders import at, execute, order, receive, ship, sign
from tests.support import balance, refused_without_writes

D = Decimal
NOT_RELEASED = ["quarantine", "blocked", "consumed", "expired"]
# A lot is only set consumed once it has no stock, so moving its stock cannot even be tried.
WITH_STOCK = ["quarantine", "blocked", "expired"]


def _lot_in_status(session, w, status, code="F-1", qty=10, item=None, **kw):
    lot = receive(session, item or w.flour, w.wh1, code, qty, **kw)
    if status == "consumed":
        _scrap_all(session, item or w.flour, code, qty)
    if status != "active":
        lots_service.change_status(session, lot, LotStatusChange(status=status, reason="test"))
    return lot


def _scrap_all(session, item, code, qty, location="WH1", when=None):
    return inventory.scrap(
        session,
        ScrapIn(
            item=item.sku,
            location=location,
            quantity=D(qty),
            lots=[{"lot": code, "quantity": D(qty)}],
            occurred_at=when or at(),
        ),
    )


def _move(session, to, qty=D(4), code="F-1", when=None):
    return inventory.transfer(
        session,
        TransferIn(
            item="FLOUR",
            from_location="WH1",
            to_location=to,
            quantity=qty,
            lots=[{"lot": code, "quantity": qty}],
            occurred_at=when or at(1),
        ),
    )


@pytest.mark.parametrize("status", NOT_RELEASED)
def test_shipping_a_lot_that_is_not_released_is_refused(session, w, status):
    _lot_in_status(session, w, status)
    order(session, "SO-1", w.customer, [(w.flour, 5, None)])
    with refused_without_writes(
        session, LotNotReleased, match=f"lot F-1 of FLOUR is {status}.*cannot be shipped"
    ) as tx:
        ship(tx, "SO-1", [(1, w.wh1, 5, [("F-1", 5)])])


@pytest.mark.parametrize("status", NOT_RELEASED)
def test_consuming_a_lot_that_is_not_released_is_refused(session, w, status):
    _lot_in_status(session, w, status)
    with refused_without_writes(session, LotNotReleased, match=f"F-1 of FLOUR is {status}.*consumed") as tx:
        execute(tx, "WO-1", w.bread, [(w.flour, w.wh1, 4, [("F-1", 4)])], [(w.wh1, 8, "B-1")])


@pytest.mark.parametrize("status", WITH_STOCK)
def test_a_lot_that_is_not_released_cannot_move_to_ordinary_storage(session, w, status):
    _lot_in_status(session, w, status)
    with refused_without_writes(
        session, LotNotReleased, match="only move to a quarantine or scrap location"
    ) as tx:
        _move(tx, "WH2")


@pytest.mark.parametrize("status", WITH_STOCK)
@pytest.mark.parametrize("to", ["QUAR", "SCRAP"])
def test_a_lot_that_is_not_released_may_move_to_quarantine_or_scrap_locations(session, w, status, to):
    lot = _lot_in_status(session, w, status)
    _move(session, to)
    dest = w.quar if to == "QUAR" else w.scrap
    assert (balance(session, w.flour, w.wh1, lot), balance(session, w.flour, dest, lot)) == (6, 4)


@pytest.mark.parametrize("status", WITH_STOCK)
def test_a_lot_that_is_not_released_may_be_scrapped(session, w, status):
    lot = _lot_in_status(session, w, status)
    inventory.scrap(
        session,
        ScrapIn(
            item="FLOUR",
            location="WH1",
            quantity=D(10),
            lots=[{"lot": "F-1", "quantity": D(10)}],
            occurred_at=at(1),
        ),
    )
    assert balance(session, w.flour, w.wh1, lot) == 0


@pytest.mark.parametrize("status", NOT_RELEASED)
def test_fefo_allocation_never_picks_a_lot_that_is_not_released(session, w, status):
    _lot_in_status(session, w, status, code="F-HELD", expires_at=at(3))
    receive(session, w.flour, w.wh1, "F-OK", 2, expires_at=at(90))
    order(session, "SO-1", w.customer, [(w.flour, 5, None)])
    with refused_without_writes(
        session, InsufficientQuantity, match="only 2.* available in released lots"
    ) as tx:
        ship(tx, "SO-1", [(1, w.wh1, 5, None)])


def test_quarantined_stock_released_again_can_ship(session, w):
    lot = _lot_in_status(session, w, "quarantine")
    lots_service.change_status(session, lot, LotStatusChange(status="active", reason="lab ok", signature=sign(session)))
    order(session, "SO-1", w.customer, [(w.flour, 5, None)])
    ship(session, "SO-1", [(1, w.wh1, 5, [("F-1", 5)])])
    assert balance(session, w.flour, w.wh1, lot) == 5


# --- expiry at the movement's time ------------------------------------------------------------------


def test_shipping_an_active_lot_after_its_expiry_is_refused(session, w):
    _lot_in_status(session, w, "active", item=w.milk, code="M-1", expires_at=at(5))
    order(session, "SO-1", w.customer, [(w.milk, 5, None)])
    with refused_without_writes(session, LotNotReleased, match="M-1 of MILK expired on 2026-01-10") as tx:
        ship(tx, "SO-1", [(1, w.wh1, 5, [("M-1", 5)])], when=at(6))
    # Exactly at the expiry instant it is already expired.
    with refused_without_writes(session, LotNotReleased) as tx:
        ship(tx, "SO-1", [(1, w.wh1, 5, [("M-1", 5)])], when=at(5))


def test_shipping_an_active_lot_before_its_expiry_is_allowed(session, w):
    lot = _lot_in_status(session, w, "active", item=w.milk, code="M-1", expires_at=at(5))
    order(session, "SO-1", w.customer, [(w.milk, 5, None)])
    ship(session, "SO-1", [(1, w.wh1, 5, [("M-1", 5)])], when=at(5) - timedelta(seconds=1))
    assert balance(session, w.milk, w.wh1, lot) == 5


def test_consuming_an_active_lot_after_its_expiry_is_refused(session, w):
    receive(session, w.milk, w.wh1, "M-1", 10, when=at(0))  # shelf life 10 days -> expires at(10)
    with refused_without_writes(session, LotNotReleased, match="M-1 of MILK expired") as tx:
        execute(tx, "WO-1", w.bread, [(w.milk, w.wh1, 4, [("M-1", 4)])], [(w.wh1, 8, "B-1")], when=at(11))


def test_an_expired_lot_may_still_be_moved_to_quarantine_and_scrapped(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10, expires_at=at(2))
    _move(session, "QUAR", when=at(3))
    inventory.scrap(
        session,
        ScrapIn(
            item="FLOUR",
            location="QUAR",
            quantity=D(4),
            lots=[{"lot": "F-1", "quantity": D(4)}],
            occurred_at=at(4),
        ),
    )
    assert balance(session, w.flour, w.quar, lot) == 0


# --- production output into existing lots ----------------------------------------------------------


@pytest.mark.parametrize("status", NOT_RELEASED)
def test_production_cannot_add_new_stock_to_a_lot_that_is_not_released(session, w, status):
    receive(session, w.flour, w.wh1, "F-1", 10)
    execute(session, "WO-1", w.bread, [(w.flour, w.wh1, 2, [("F-1", 2)])], [(w.wh1, 4, "B-1")])
    bread_lot = lots_service.find_lot(session, "B-1", item_ref="BREAD")
    if status == "consumed":
        _scrap_all(session, w.bread, "B-1", 4, when=at(1))
    lots_service.change_status(session, bread_lot, LotStatusChange(status=status, reason="test"))
    with refused_without_writes(
        session, LotNotReleased, match="B-1 of BREAD is .*new stock cannot be added"
    ) as tx:
        execute(tx, "WO-1", w.bread, [(w.flour, w.wh1, 2, [("F-1", 2)])], [(w.wh1, 4, "B-1")], create=False)


# --- the status machine ----------------------------------------------------------------------------


def test_a_consumed_lot_is_final(session, w):
    lot = _lot_in_status(session, w, "consumed")
    with refused_without_writes(
        session, InvalidStateTransition, match="F-1 cannot go from consumed to active"
    ) as tx:
        lots_service.change_status(tx, tx.get(Lot, lot.id), LotStatusChange(status="active"))


@pytest.mark.parametrize("status", ["active", *WITH_STOCK])
def test_marking_a_lot_with_stock_consumed_is_refused(session, w, status):
    lot = _lot_in_status(session, w, status)
    with refused_without_writes(
        session,
        InvalidStateTransition,
        match="F-1 still has stock \\(10 at WH1\\); consume, ship or scrap it",
    ) as tx:
        lots_service.change_status(tx, tx.get(Lot, lot.id), LotStatusChange(status="consumed"))


@pytest.mark.parametrize(
    "post",
    [
        lambda s: _move(s, "QUAR", qty=D(1)),
        lambda s: inventory.adjust(
            s,
            AdjustmentIn(
                reason="found",
                occurred_at=at(1),
                lines=[
                    {
                        "item": "FLOUR",
                        "location": "WH1",
                        "quantity": D(1),
                        "lots": [{"lot": "F-1", "quantity": D(1)}],
                    }
                ],
            ),
        ),
    ],
    ids=["transfer", "adjustment"],
)
def test_no_movement_adds_stock_to_a_consumed_lot(session, w, post):
    _lot_in_status(session, w, "consumed")
    with refused_without_writes(session, (LotNotReleased, InsufficientQuantity)) as tx:
        post(tx)


def test_reversing_the_scrap_of_a_consumed_lot_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    scrapped = _scrap_all(session, w.flour, "F-1", 10)
    lots_service.change_status(
        session, lots_service.find_lot(session, "F-1"), LotStatusChange(status="consumed", reason="all scrapped")
    )
    with refused_without_writes(
        session, LotNotReleased, match="F-1 of FLOUR is consumed; new stock cannot"
    ) as tx:
        inventory.reverse(tx, scrapped.movement.id, ReversalIn(reason="oops", occurred_at=at(1)))


def test_an_expired_lot_cannot_be_released_again(session, w):
    lot = _lot_in_status(session, w, "expired")
    with refused_without_writes(session, InvalidStateTransition, match="expired to active") as tx:
        lots_service.change_status(tx, tx.get(Lot, lot.id), LotStatusChange(status="active"))


def test_an_unknown_lot_status_is_refused_at_the_edge(session, w):
    with pytest.raises(pydantic.ValidationError) as info:
        LotStatusChange(status="destroyed")
    assert info.value.errors()[0]["loc"] == ("status",)


def test_expire_due_marks_lots_past_their_expiry(session, w):
    past = receive(session, w.milk, w.wh1, "M-1", 1, expires_at=at(2))
    future = receive(session, w.milk, w.wh1, "M-2", 1, expires_at=at(20))
    blocked = _lot_in_status(session, w, "blocked", item=w.milk, code="M-3", qty=1, expires_at=at(2))
    assert lots_service.expire_due(session, at(3)) == 1
    session.expire_all()
    assert [session.get(Lot, x.id).status for x in (past, future, blocked)] == [
        "expired",
        "active",
        "blocked",
    ]


def test_a_lot_code_shared_by_two_items_needs_the_item_to_be_found(session, w):
    a = receive(session, w.flour, w.wh1, "L-1", 1)
    b = receive(session, w.milk, w.wh1, "L-1", 1)
    with pytest.raises(InvalidInput, match="FLOUR, MILK"):
        lots_service.find_lot(session, "L-1")
    assert lots_service.find_lot(session, "L-1", item_ref="MILK").id == b.id
    assert lots_service.find_lot(session, str(a.id)).id == a.id
