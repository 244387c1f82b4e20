"""The lot rules of the posting service (issue 2, section 4), one rule per test.

Refusals run through the real ``lotline.db.transaction()`` boundary and check that nothing at all
was written (see ``refused_without_writes``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lotline.errors import (
    AllocationMismatch,
    DuplicateKey,
    InsufficientQuantity,
    InvalidInput,
    NotFound,
    WrongLotItem,
)
from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ReturnIn, ScrapIn, TransferIn
from lotline.lots import service as lots_service
from lotline.models import InventoryBalance, InventoryMovementLine, InventoryMovementLot, Lot
from lotline.types import utcnow
from tests.builders import at, receive
from tests.support import (
    balance,
    count,
    ledger_quantity,
    lot_rows_of,
    refused_without_writes,
    run,
)

D = Decimal


def receipt(item, location, qty, lots, **kw) -> ReceiptIn:
    return ReceiptIn(
        vendor="MILL",
        occurred_at=kw.pop("occurred_at", at()),
        lines=[{"item": item.sku, "location": location.code, "quantity": D(str(qty)), "lots": lots}],
        **kw,
    )


def adjustment(item, location, qty, lots) -> AdjustmentIn:
    return AdjustmentIn(
        reason="count",
        occurred_at=at(1),
        lines=[
            {
                "item": item.sku,
                "location": location.code,
                "quantity": D(str(qty)),
                "lots": [{"lot": ref, "quantity": D(str(q))} for ref, q in lots],
            }
        ],
    )


# --- lines carry their movement's time and type -------------------------------------------------


def test_every_line_carries_its_movements_time_type_and_recording_time(session, w):
    receive(session, w.milk, w.wh1, "M-1", 10)
    posted = inventory.transfer(
        session,
        TransferIn(item=w.milk.sku, from_location=w.wh1.code, to_location=w.wh2.code, quantity=D(4), occurred_at=at(1, hours=3)),
    )
    session.expire_all()
    copies = session.execute(
        sa.select(
            InventoryMovementLine.occurred_at, InventoryMovementLine.movement_type, InventoryMovementLine.created_at
        ).where(InventoryMovementLine.movement_id == posted.movement.id)
    ).all()
    movement = posted.movement
    assert copies == [(at(1, hours=3), "transfer", movement.created_at)] * 2


# --- lot rows sum exactly to the line --------------------------------------------------------------


def test_receipt_lot_rows_sum_exactly_to_the_line_with_its_sign_and_uom(session, w):
    posted = inventory.receive(
        session,
        receipt(
            w.milk, w.wh1, 10, [{"lot_code": "M-1", "quantity": D(6)}, {"lot_code": "M-2", "quantity": D(4)}]
        ),
    )
    rows = lot_rows_of(session, posted.movement.id)
    line = session.scalar(
        sa.select(InventoryMovementLine).where(InventoryMovementLine.movement_id == posted.movement.id)
    )
    assert line.quantity_delta == D(10) and line.uom == "l"
    assert sorted(r.quantity_delta for r in rows) == [D(4), D(6)]
    assert sum(r.quantity_delta for r in rows) == line.quantity_delta
    assert {r.uom for r in rows} == {"l"}


def test_receipt_whose_lots_do_not_sum_to_the_line_is_refused(session, w):
    lots = [{"lot_code": "F-1", "quantity": D(6)}, {"lot_code": "F-2", "quantity": D(3)}]
    with refused_without_writes(session, AllocationMismatch, match="sum to 9.*line's quantity is 10") as tx:
        inventory.receive(tx, receipt(w.flour, w.wh1, 10, lots))
    assert count(session, Lot) == 0  # the lots created before the check were rolled back too


def test_lot_rows_may_not_exceed_the_line_either(session, w):
    lots = [{"lot_code": "F-1", "quantity": D(6)}, {"lot_code": "F-2", "quantity": D("4.000001")}]
    with refused_without_writes(session, AllocationMismatch) as tx:
        inventory.receive(tx, receipt(w.flour, w.wh1, 10, lots))


def test_adjustment_lot_rows_must_carry_the_sign_of_the_line(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    receive(session, w.flour, w.wh1, "F-2", 10)
    # -4 + 2 = -2 sums to the line, but a positive row on a negative line is still refused.
    with refused_without_writes(session, AllocationMismatch, match="F-2.*line's sign") as tx:
        inventory.adjust(tx, adjustment(w.flour, w.wh1, -2, [("F-1", -4), ("F-2", 2)]))


def test_a_line_in_another_uom_than_the_items_is_refused(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    line = inventory.Line(w.flour, w.wh1, D(-1), [inventory.LotDelta(lot, D(-1))], uom="lb")
    with refused_without_writes(session, InvalidInput, match="uom 'lb'.*'kg'") as tx:
        inventory.post_movement(tx, "adjustment", at(1), [line])


def test_the_same_lot_listed_twice_on_a_line_is_refused(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    line = inventory.Line(
        w.flour, w.wh1, D(-2), [inventory.LotDelta(lot, D(-1)), inventory.LotDelta(lot, D(-1))]
    )
    with refused_without_writes(session, AllocationMismatch, match="listed twice") as tx:
        inventory.post_movement(tx, "adjustment", at(1), [line])


def test_a_lot_tracked_line_without_lots_is_refused(session, w):
    with refused_without_writes(session, AllocationMismatch, match="FLOUR.*lot") as tx:
        inventory.receive(tx, receipt(w.flour, w.wh1, 10, []))
    with refused_without_writes(session, AllocationMismatch, match="FLOUR is lot-tracked") as tx:
        inventory.post_movement(tx, "adjustment", at(1), [inventory.Line(w.flour, w.wh1, D(5))])


def test_an_untracked_item_carries_no_lots(session, w):
    posted = inventory.receive(session, receipt(w.salt, w.wh1, 5, []))
    assert lot_rows_of(session, posted.movement.id) == []
    assert balance(session, w.salt, w.wh1) == D(5)


def test_lots_on_an_untracked_item_are_refused(session, w):
    with refused_without_writes(session, AllocationMismatch, match="SALT.*not lot-tracked") as tx:
        inventory.receive(tx, receipt(w.salt, w.wh1, 5, [{"lot_code": "S-1", "quantity": D(5)}]))
    # Directly at the posting service too: any lot row on an untracked item's line is refused.
    some_lot = receive(session, w.flour, w.wh1, "F-1", 1)
    line = inventory.Line(w.salt, w.wh1, D(1), [inventory.LotDelta(some_lot, D(1))])
    with refused_without_writes(session, AllocationMismatch, match="SALT is not lot-tracked") as tx:
        inventory.post_movement(tx, "adjustment", at(1), [line])


def test_a_zero_quantity_line_is_refused(session, w):
    with refused_without_writes(session, InvalidInput, match="must not be zero") as tx:
        inventory.post_movement(tx, "adjustment", at(1), [inventory.Line(w.salt, w.wh1, D(0))])


def test_a_line_against_the_sign_of_its_movement_type_is_refused(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    line = inventory.Line(w.flour, w.wh1, D(-1), [inventory.LotDelta(lot, D(-1))])
    with refused_without_writes(session, InvalidInput, match="every receipt line must add stock") as tx:
        inventory.post_movement(tx, "receipt", at(1), [line], vendor_id=w.vendor.id)


# --- each lot belongs to the line's item -----------------------------------------------------------


def test_transferring_with_a_lot_of_another_item_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    milk_lot = receive(session, w.milk, w.wh1, "M-1", 10)
    data = TransferIn(
        item="FLOUR",
        from_location="WH1",
        to_location="WH2",
        quantity=D(1),
        lots=[{"lot": str(milk_lot.id), "quantity": D(1)}],
        occurred_at=at(1),
    )
    with refused_without_writes(
        session, WrongLotItem, match="lot M-1 belongs to another item, not FLOUR"
    ) as tx:
        inventory.transfer(tx, data)


def test_adjusting_with_a_lot_of_another_item_is_refused(session, w):
    milk_lot = receive(session, w.milk, w.wh1, "M-1", 10)
    with refused_without_writes(session, WrongLotItem, match="M-1.*FLOUR") as tx:
        inventory.adjust(tx, adjustment(w.flour, w.wh1, 1, [(str(milk_lot.id), 1)]))


def test_a_lot_code_of_another_item_is_not_found_for_this_item(session, w):
    receive(session, w.milk, w.wh1, "M-1", 10)
    with refused_without_writes(session, NotFound, match="unknown lot 'M-1' of item FLOUR") as tx:
        inventory.adjust(tx, adjustment(w.flour, w.wh1, 1, [("M-1", 1)]))


# --- lot code unique per item ----------------------------------------------------------------------


def test_receiving_a_lot_code_the_item_already_has_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    with refused_without_writes(session, DuplicateKey, match="FLOUR already has a lot 'F-1'") as tx:
        inventory.receive(tx, receipt(w.flour, w.wh2, 5, [{"lot_code": "F-1", "quantity": D(5)}]))


def test_a_receipt_repeating_a_lot_code_on_two_lines_is_refused_whole(session, w):
    data = ReceiptIn(
        vendor="MILL",
        occurred_at=at(),
        lines=[
            {
                "item": "FLOUR",
                "location": "WH1",
                "quantity": D(5),
                "lots": [{"lot_code": "F-9", "quantity": D(5)}],
            },
            {
                "item": "FLOUR",
                "location": "WH2",
                "quantity": D(5),
                "lots": [{"lot_code": "F-9", "quantity": D(5)}],
            },
        ],
    )
    with refused_without_writes(session, DuplicateKey, match="F-9") as tx:
        inventory.receive(tx, data)


def test_the_same_lot_code_may_exist_for_two_items(session, w):
    a = receive(session, w.flour, w.wh1, "L-1", 10)
    b = receive(session, w.milk, w.wh1, "L-1", 10)
    assert a.id != b.id and (a.item_id, b.item_id) == (w.flour.id, w.milk.id)


# --- expiry defaulted from shelf life --------------------------------------------------------------


def test_expiry_defaults_to_manufacture_date_plus_shelf_life(session, w):
    lot = receive(session, w.milk, w.wh1, "M-1", 10, when=at(2), manufactured_at=at(-3))
    assert lot.expires_at == at(-3 + 10)
    assert lot.manufactured_at == at(-3) and lot.received_at == at(2)


def test_expiry_defaults_to_receipt_date_plus_shelf_life_without_a_manufacture_date(session, w):
    lot = receive(session, w.milk, w.wh1, "M-1", 10, when=at(2))
    assert lot.expires_at == at(2 + 10)


def test_a_given_expiry_is_kept(session, w):
    lot = receive(session, w.milk, w.wh1, "M-1", 10, when=at(2), expires_at=at(4))
    assert lot.expires_at == at(4)


def test_an_item_without_shelf_life_gets_no_default_expiry(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10, manufactured_at=at(-3))
    assert lot.expires_at is None


# --- no lot below zero at any location -------------------------------------------------------------


def test_a_lot_cannot_go_below_zero_at_a_location_even_when_it_has_stock_elsewhere(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    inventory.transfer(
        session,
        TransferIn(item="FLOUR", from_location="WH1", to_location="WH2", quantity=D(4), occurred_at=at(1)),
    )
    data = TransferIn(
        item="FLOUR",
        from_location="WH2",
        to_location="WH1",
        quantity=D(5),
        lots=[{"lot": "F-1", "quantity": D(5)}],
        occurred_at=at(1),
    )
    with refused_without_writes(
        session, InsufficientQuantity, match="lot F-1 of FLOUR has 4.* kg at WH2, 5.* requested"
    ) as tx:
        inventory.transfer(tx, data)


def test_an_adjustment_taking_a_lot_below_zero_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    with refused_without_writes(session, InsufficientQuantity, match="F-1") as tx:
        inventory.adjust(tx, adjustment(w.flour, w.wh1, "-10.000001", [("F-1", "-10.000001")]))
    run(session, lambda tx: inventory.adjust(tx, adjustment(w.flour, w.wh1, -10, [("F-1", -10)])))
    assert balance(session, w.flour, w.wh1, session.scalar(sa.select(Lot))) == 0


def test_two_lines_of_one_movement_together_cannot_overdraw_a_lot(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    lines = [inventory.Line(w.flour, w.wh1, D(-6), [inventory.LotDelta(lot, D(-6))]) for _ in range(2)]
    with refused_without_writes(session, InsufficientQuantity, match="has 10.*12.* requested") as tx:
        inventory.post_movement(tx, "adjustment", at(1), lines)


def test_when_several_lots_are_short_the_refusal_names_the_first_in_document_order(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    receive(session, w.flour, w.wh1, "F-2", 10)
    # Both orders: the lots' ids (the lock order) are the same in both, so only document order
    # can name F-1 in one and F-2 in the other.
    for first, second in (("F-1", "F-2"), ("F-2", "F-1")):
        with refused_without_writes(session, InsufficientQuantity, match=f"lot {first} of FLOUR has 10") as tx:
            inventory.adjust(tx, adjustment(w.flour, w.wh1, -40, [(first, -20), (second, -20)]))


def test_scrapping_more_than_a_lot_holds_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 3)
    data = ScrapIn(
        item="FLOUR",
        location="WH1",
        quantity=D(4),
        lots=[{"lot": "F-1", "quantity": D(4)}],
        occurred_at=at(1),
    )
    with refused_without_writes(session, InsufficientQuantity) as tx:
        inventory.scrap(tx, data)


def test_the_database_refuses_a_negative_lot_balance_as_a_last_line_of_defence(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 3)
    with (
        pytest.raises(sa.exc.IntegrityError, match="inventory_balances_lot_nonnegative"),
        session.begin_nested(),
    ):
        session.execute(
            sa.update(InventoryBalance).where(InventoryBalance.lot_id == lot.id).values(quantity=-1)
        )


# --- transfers keep the lot ------------------------------------------------------------------------


def test_a_transfer_keeps_the_lot_and_creates_none(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    posted = inventory.transfer(
        session,
        TransferIn(
            item="FLOUR",
            from_location="WH1",
            to_location="WH2",
            quantity=D(4),
            lots=[{"lot": "F-1", "quantity": D(4)}],
            occurred_at=at(1),
        ),
    )
    assert count(session, Lot) == 1
    rows = lot_rows_of(session, posted.movement.id)
    assert [(r.lot_id, r.quantity_delta) for r in rows] == [(lot.id, D(-4)), (lot.id, D(4))]
    assert balance(session, w.flour, w.wh1, lot) == 6 == ledger_quantity(session, w.flour, w.wh1, lot)
    assert balance(session, w.flour, w.wh2, lot) == 4 == ledger_quantity(session, w.flour, w.wh2, lot)


def test_a_transfer_that_does_not_put_back_what_it_takes_is_refused(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    other = receive(session, w.flour, w.wh1, "F-2", 10)
    lines = [
        inventory.Line(w.flour, w.wh1, D(-4), [inventory.LotDelta(lot, D(-4))]),
        inventory.Line(w.flour, w.wh2, D(4), [inventory.LotDelta(other, D(4))]),
    ]
    with refused_without_writes(session, InvalidInput, match="per item and lot") as tx:
        inventory.post_movement(tx, "transfer", at(1), lines)


def test_a_transfer_to_the_same_location_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    with refused_without_writes(session, InvalidInput, match="WH1 to itself") as tx:
        inventory.transfer(
            tx,
            TransferIn(
                item="FLOUR", from_location="WH1", to_location="WH1", quantity=D(1), occurred_at=at(1)
            ),
        )


# --- FEFO when lots are not named ------------------------------------------------------------------


def test_a_transfer_without_named_lots_takes_the_first_expiring_lots_first(session, w):
    late = receive(session, w.milk, w.wh1, "M-LATE", 5, expires_at=at(20))
    never = receive(session, w.flour, w.wh1, "F-X", 5)  # another item: never considered
    early = receive(session, w.milk, w.wh1, "M-EARLY", 5, expires_at=at(8))
    mid = receive(session, w.milk, w.wh1, "M-MID", 5, expires_at=at(12))
    posted = inventory.transfer(
        session,
        TransferIn(item="MILK", from_location="WH1", to_location="WH2", quantity=D(7), occurred_at=at(1)),
    )
    taken = {
        r.lot_id: r.quantity_delta for r in lot_rows_of(session, posted.movement.id) if r.quantity_delta < 0
    }
    assert taken == {early.id: D(-5), mid.id: D(-2)}
    assert late.id not in taken and never.id not in taken


def test_fefo_skips_lots_that_are_expired_at_the_movement_time(session, w):
    old = receive(session, w.milk, w.wh1, "M-OLD", 5, expires_at=at(2))
    new = receive(session, w.milk, w.wh1, "M-NEW", 5, expires_at=at(30))
    posted = inventory.transfer(
        session,
        TransferIn(item="MILK", from_location="WH1", to_location="WH2", quantity=D(3), occurred_at=at(3)),
    )
    taken = {r.lot_id for r in lot_rows_of(session, posted.movement.id)}
    assert taken == {new.id} and old.id not in taken


def test_fefo_without_enough_released_stock_is_refused(session, w):
    receive(session, w.milk, w.wh1, "M-1", 5, expires_at=at(30))
    receive(session, w.milk, w.wh2, "M-2", 50, expires_at=at(30))  # other location: not counted
    with refused_without_writes(session, InsufficientQuantity, match="only 5.* available.*MILK at WH1") as tx:
        inventory.transfer(
            tx,
            TransferIn(
                item="MILK", from_location="WH1", to_location="QUAR", quantity=D(6), occurred_at=at(1)
            ),
        )


# --- timing ----------------------------------------------------------------------------------------


def test_a_movement_dated_in_the_future_is_refused(session, w):
    with refused_without_writes(session, InvalidInput, match="in the future") as tx:
        inventory.receive(
            tx,
            receipt(w.salt, w.wh1, 1, [], occurred_at=utcnow() + timedelta(hours=1)),
        )


def test_on_hand_reports_stock_by_item_location_and_lot(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    inventory.transfer(
        session,
        TransferIn(item="FLOUR", from_location="WH1", to_location="WH2", quantity=D(3), occurred_at=at(1)),
    )
    rows = lots_service.on_hand(session, item_id=w.flour.id)
    assert [(r["location"], r["lot_code"], r["quantity"]) for r in rows] == [
        ("WH1", "F-1", 7),
        ("WH2", "F-1", 3),
    ]
    assert lots_service.lot_quantity(session, lot.id) == 10
    assert count(session, InventoryMovementLot) == 3


# --- other use cases -------------------------------------------------------------------------------


def test_an_untracked_item_cannot_be_transferred_with_named_lots(session, w):
    inventory.receive(session, receipt(w.salt, w.wh1, 5, []))
    data = TransferIn(
        item="SALT",
        from_location="WH1",
        to_location="WH2",
        quantity=D(1),
        lots=[{"lot": "S-1", "quantity": D(1)}],
        occurred_at=at(1),
    )
    with refused_without_writes(session, AllocationMismatch, match="SALT is not lot-tracked") as tx:
        inventory.transfer(tx, data)


def test_scrapping_a_tracked_item_must_name_the_lots(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    with refused_without_writes(session, AllocationMismatch, match="say which lots are scrapped") as tx:
        inventory.scrap(tx, ScrapIn(item="FLOUR", location="WH1", quantity=D(1), occurred_at=at(1)))


@pytest.mark.raw_world("posts a shipment movement without an order (low-level post_movement)")
def test_a_return_goes_back_into_the_lot_it_was_shipped_from(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    line = inventory.Line(w.flour, w.wh1, D(-4), [inventory.LotDelta(lot, D(-4))])
    inventory.post_movement(session, "shipment", at(1), [line], customer_id=w.customer.id)
    posted = inventory.return_goods(
        session,
        ReturnIn(
            customer="SHOP",
            occurred_at=at(2),
            lines=[
                {
                    "item": "FLOUR",
                    "location": "QUAR",
                    "quantity": D(1),
                    "lots": [{"lot": "F-1", "quantity": D(1)}],
                }
            ],
        ),
    )
    assert posted.movement.customer_id == w.customer.id
    assert (balance(session, w.flour, w.wh1, lot), balance(session, w.flour, w.quar, lot)) == (6, 1)


def test_a_return_into_a_lot_of_another_item_is_refused(session, w):
    milk_lot = receive(session, w.milk, w.wh1, "M-1", 10)
    data = ReturnIn(
        customer="SHOP",
        occurred_at=at(2),
        lines=[
            {
                "item": "FLOUR",
                "location": "QUAR",
                "quantity": D(1),
                "lots": [{"lot": str(milk_lot.id), "quantity": D(1)}],
            }
        ],
    )
    with refused_without_writes(session, WrongLotItem, match="M-1 belongs to another item, not FLOUR") as tx:
        inventory.return_goods(tx, data)


def test_an_unknown_item_or_location_is_not_found_and_nothing_is_written(session, w):
    with refused_without_writes(session, NotFound, match="unknown location 'NOWHERE'") as tx:
        inventory.receive(
            tx,
            ReceiptIn(
                vendor="MILL",
                occurred_at=at(),
                lines=[
                    {
                        "item": "FLOUR",
                        "location": "WH1",
                        "quantity": D(1),
                        "lots": [{"lot_code": "F-1", "quantity": D(1)}],
                    },
                    {
                        "item": "FLOUR",
                        "location": "NOWHERE",
                        "quantity": D(1),
                        "lots": [{"lot_code": "F-2", "quantity": D(1)}],
                    },
                ],
            ),
        )
    with refused_without_writes(session, NotFound, match="unknown vendor 'GHOST'") as tx:
        inventory.receive(
            tx,
            ReceiptIn(
                vendor="GHOST",
                occurred_at=at(),
                lines=[{"item": "SALT", "location": "WH1", "quantity": D(1)}],
            ),
        )


def test_a_transfer_whose_named_lots_do_not_cover_the_quantity_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    data = TransferIn(
        item="FLOUR",
        from_location="WH1",
        to_location="WH2",
        quantity=D(5),
        lots=[{"lot": "F-1", "quantity": D(3)}],
        occurred_at=at(1),
    )
    with refused_without_writes(session, AllocationMismatch, match="sum to -3.*line's quantity is -5") as tx:
        inventory.transfer(tx, data)
