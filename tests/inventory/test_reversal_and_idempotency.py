"""Corrections are reversing movements; a replayed external reference returns the original."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lotline.errors import DuplicateKey, InsufficientQuantity, InvalidStateTransition, NotFound
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn, ReversalIn, ScrapIn, TransferIn
from lotline.models import InventoryMovement, InventoryMovementLine, InventoryMovementLot, Lot
from tests.builders import at, receive
from tests.support import balance, count, database_state, lot_rows_of, refused_without_writes, run

D = Decimal


def _receipt(ref=None, code="F-1", qty=10) -> ReceiptIn:
    return ReceiptIn(
        vendor="MILL",
        occurred_at=at(),
        external_ref=ref,
        lines=[
            {
                "item": "FLOUR",
                "location": "WH1",
                "quantity": D(qty),
                "lots": [{"lot_code": code, "quantity": D(qty)}],
            }
        ],
    )


def _transfer(qty=4, ref=None) -> TransferIn:
    return TransferIn(
        item="FLOUR",
        from_location="WH1",
        to_location="WH2",
        quantity=D(qty),
        occurred_at=at(1),
        external_ref=ref,
    )


# --- reversal --------------------------------------------------------------------------------------


def test_reversing_a_receipt_posts_the_opposite_and_marks_the_original_reversed(session, w):
    original = inventory.receive(session, _receipt())
    lot = session.get(Lot, original.lot_rows[0][0].lot_id)
    rev = run(
        session,
        lambda tx: inventory.reverse(
            tx, original.movement.id, ReversalIn(reason="wrong PO", occurred_at=at(1))
        ),
    )
    assert rev.movement.reverses_movement_id == original.movement.id
    assert rev.movement.movement_type == "receipt"
    assert session.get(InventoryMovement, original.movement.id).status == "reversed"
    assert session.get(InventoryMovement, rev.movement.id).status == "posted"
    assert [(r.lot_id, r.quantity_delta) for r in lot_rows_of(session, rev.movement.id)] == [(lot.id, D(-10))]
    assert balance(session, w.flour, w.wh1, lot) == 0
    # The original is never edited: its lines and lot rows are as posted.
    assert [r.quantity_delta for r in lot_rows_of(session, original.movement.id)] == [D(10)]


def test_reversing_a_transfer_puts_the_lot_back_where_it_was(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    moved = inventory.transfer(session, _transfer(4))
    inventory.reverse(session, moved.movement.id, ReversalIn(reason="wrong bin", occurred_at=at(2)))
    assert (balance(session, w.flour, w.wh1, lot), balance(session, w.flour, w.wh2, lot)) == (10, 0)


def test_a_reversal_that_would_take_a_lot_below_zero_is_refused(session, w):
    original = inventory.receive(session, _receipt())
    inventory.scrap(
        session,
        ScrapIn(
            item="FLOUR",
            location="WH1",
            quantity=D(3),
            lots=[{"lot": "F-1", "quantity": D(3)}],
            occurred_at=at(1),
        ),
    )
    with refused_without_writes(session, InsufficientQuantity, match="F-1.*has 7.*10.* requested") as tx:
        inventory.reverse(tx, original.movement.id, ReversalIn(reason="x", occurred_at=at(2)))
    assert session.get(InventoryMovement, original.movement.id).status == "posted"


def test_a_movement_cannot_be_reversed_twice(session, w):
    original = inventory.receive(session, _receipt())
    rev = inventory.reverse(session, original.movement.id, ReversalIn(reason="x", occurred_at=at(1)))
    with refused_without_writes(
        session, InvalidStateTransition, match="reversed and cannot be reversed again"
    ) as tx:
        inventory.reverse(tx, original.movement.id, ReversalIn(reason="again", occurred_at=at(1)))
    # Nor can the reversal itself be reversed (that would re-post the original).
    with refused_without_writes(session, InvalidStateTransition) as tx:
        inventory.reverse(tx, rev.movement.id, ReversalIn(reason="undo the undo", occurred_at=at(1)))


@pytest.mark.raw_world("posts a shipment movement without an order (low-level post_movement)")
def test_shipments_and_production_are_not_reversed_by_a_generic_reversal(session, w):
    lot = receive(session, w.flour, w.wh1, "F-1", 10)
    line = inventory.Line(w.flour, w.wh1, D(-1), [inventory.LotDelta(lot, D(-1))])
    shipped = inventory.post_movement(session, "shipment", at(1), [line], customer_id=w.customer.id)
    with refused_without_writes(
        session, InvalidStateTransition, match="shipment movement cannot be reversed"
    ) as tx:
        inventory.reverse(tx, shipped.movement.id, ReversalIn(reason="x", occurred_at=at(2)))


def test_reversing_an_unknown_movement_is_not_found(session, w):
    import uuid

    with refused_without_writes(session, NotFound) as tx:
        inventory.reverse(tx, uuid.uuid4(), ReversalIn(reason="x"))


# --- idempotency -----------------------------------------------------------------------------------


def test_a_replayed_receipt_returns_the_original_movement(session, w):
    first = run(session, lambda tx: inventory.receive(tx, _receipt("PO-1/1")))
    state = database_state(session)
    again = run(session, lambda tx: inventory.receive(tx, _receipt("PO-1/1")))
    assert again.replayed and not first.replayed
    assert again.movement.id == first.movement.id
    assert [r.id for rows in again.lot_rows for r in rows] == [r.id for rows in first.lot_rows for r in rows]
    assert database_state(session) == state
    assert balance(session, w.flour, w.wh1, session.scalar(sa.select(Lot))) == 10


def test_a_replayed_transfer_returns_the_original_movement(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    first = inventory.transfer(session, _transfer(4, ref="MOVE-7"))
    state = database_state(session)
    again = inventory.transfer(session, _transfer(4, ref="MOVE-7"))
    assert again.replayed and again.movement.id == first.movement.id
    assert database_state(session) == state
    assert count(session, InventoryMovementLine, InventoryMovementLine.movement_id == first.movement.id) == 2


def test_an_external_reference_used_by_another_movement_type_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    inventory.transfer(session, _transfer(4, ref="REF-1"))
    with refused_without_writes(session, DuplicateKey, match="REF-1.*transfer") as tx:
        inventory.receive(tx, _receipt("REF-1", code="F-2"))


def test_two_movements_can_never_share_an_external_reference(session, w):
    # The advisory lock makes the check-then-insert safe; the unique index backs it up.
    inventory.receive(session, _receipt("PO-9"))
    with (
        pytest.raises(sa.exc.IntegrityError, match="idx_inventory_movements_external_ref"),
        session.begin_nested(),
    ):
        session.add(InventoryMovement(movement_type="adjustment", occurred_at=at(), external_ref="PO-9"))
        session.flush()
    assert count(session, InventoryMovementLot) == 1
