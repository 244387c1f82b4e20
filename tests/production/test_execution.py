"""A work order execution posts consume + produce together and records lot genealogy."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from lotline.errors import InsufficientQuantity, InvalidStateTransition, NotFound, WrongLotItem
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import NewLot
from lotline.models import (
    InventoryMovement,
    InventoryMovementLot,
    Lot,
    LotGenealogyEdge,
    WorkOrderExecution,
    WorkOrderLotLink,
)
from lotline.production import service as production
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from tests.builders import at, execute, receive
from tests.support import balance, count, database_state, lot_rows_of, refused_without_writes, run

D = Decimal


def _links(session, execution_id, role):
    return set(
        session.scalars(
            sa.select(WorkOrderLotLink.inventory_movement_lot_id).where(
                WorkOrderLotLink.work_order_execution_id == execution_id, WorkOrderLotLink.role == role
            )
        )
    )


def _mixing(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    receive(session, w.flour, w.wh1, "F-2", 10)
    receive(session, w.milk, w.wh1, "M-1", 3, expires_at=at(8))
    receive(session, w.milk, w.wh1, "M-2", 10, expires_at=at(9))
    inventory.receive(
        session,
        ReceiptIn(
            vendor="MILL", occurred_at=at(), lines=[{"item": "SALT", "location": "WH1", "quantity": D(5)}]
        ),
    )
    return execute(
        session,
        "WO-1",
        w.bread,
        [
            (w.flour, w.wh1, 12, [("F-1", 7), ("F-2", 5)]),
            (w.milk, w.wh1, 5, None),  # FEFO: 3 of M-1 then 2 of M-2
            (w.salt, w.wh1, 1, None),  # untracked: no lot rows, no links
        ],
        [(w.wh1, 20, "B-1"), (w.wh2, 4, "B-2")],
    )


def test_execution_links_every_consumed_and_produced_lot_row(session, w):
    done = _mixing(session, w)
    ex = done.execution
    consume_rows = lot_rows_of(session, ex.consume_movement_id)
    produce_rows = lot_rows_of(session, ex.produce_movement_id)
    assert len(consume_rows) == 4 and len(produce_rows) == 2
    assert _links(session, ex.id, "consume") == {r.id for r in consume_rows}
    assert _links(session, ex.id, "produce") == {r.id for r in produce_rows}
    assert count(session, WorkOrderLotLink) == 6


def test_execution_posts_consume_and_produce_movements_together(session, w):
    ex = _mixing(session, w).execution
    consume = session.get(InventoryMovement, ex.consume_movement_id)
    produce = session.get(InventoryMovement, ex.produce_movement_id)
    assert (consume.movement_type, produce.movement_type) == ("production_consume", "production_produce")
    assert consume.occurred_at == produce.occurred_at == ex.occurred_at == at(1)
    f1, f2, m1, m2 = (lots_service.find_lot(session, c) for c in ("F-1", "F-2", "M-1", "M-2"))
    assert [balance(session, w.flour if x in (f1, f2) else w.milk, w.wh1, x) for x in (f1, f2, m1, m2)] == [
        3,
        5,
        0,
        8,
    ]
    assert balance(session, w.salt, w.wh1) == 4


def test_execution_writes_a_genealogy_edge_from_every_consumed_lot_to_every_produced_lot(session, w):
    ex = _mixing(session, w).execution
    code = {x.id: x.lot_code for x in session.scalars(sa.select(Lot))}
    edges = {
        (code[e.parent_lot_id], code[e.child_lot_id]): (
            e.consumed_quantity,
            e.produced_quantity,
            e.occurred_at,
        )
        for e in session.scalars(
            sa.select(LotGenealogyEdge).where(LotGenealogyEdge.work_order_execution_id == ex.id)
        )
    }
    used = {"F-1": D(7), "F-2": D(5), "M-1": D(3), "M-2": D(2)}
    made = {"B-1": D(20), "B-2": D(4)}
    assert edges == {(p, c): (used[p], made[c], at(1)) for p in used for c in made}


def test_output_lots_are_created_with_a_default_expiry_and_topped_up_later(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    execute(session, "WO-1", w.bread, [(w.flour, w.wh1, 2, [("F-1", 2)])], [(w.wh1, 4, "B-1")], when=at(1))
    lot = lots_service.find_lot(session, "B-1", item_ref="BREAD")
    assert (lot.manufactured_at, lot.expires_at, lot.status) == (at(1), at(1 + 5), "active")
    second = execute(
        session,
        "WO-1",
        w.bread,
        [(w.flour, w.wh1, 2, [("F-1", 2)])],
        [(w.wh1, 6, "B-1")],
        when=at(2),
        create=False,
    )
    assert count(session, Lot, Lot.item_id == w.bread.id) == 1
    assert balance(session, w.bread, w.wh1, lot) == 10
    assert (
        count(session, LotGenealogyEdge, LotGenealogyEdge.work_order_execution_id == second.execution.id) == 1
    )


def test_a_refused_execution_leaves_nothing_behind(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    receive(session, w.milk, w.wh1, "M-1", 2)
    production.create_work_order(session, WorkOrderIn(number="WO-1", item="BREAD", planned_quantity=D(10)))
    with refused_without_writes(session, InsufficientQuantity, match="MILK at WH1.*consume line 2") as tx:
        # Line 1 is fine and the output lot would be new: neither may survive the refusal.
        execute(
            tx,
            "WO-1",
            w.bread,
            [(w.flour, w.wh1, 2, [("F-1", 2)]), (w.milk, w.wh1, 3, None)],
            [(w.wh1, 4, "B-NEW")],
            create=False,
        )
    assert count(session, WorkOrderExecution) == 0


def test_consuming_a_lot_of_another_item_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    milk_lot = receive(session, w.milk, w.wh1, "M-1", 10)
    with refused_without_writes(
        session, WrongLotItem, match="lot M-1 belongs to another item, not FLOUR"
    ) as tx:
        execute(tx, "WO-1", w.bread, [(w.flour, w.wh1, 2, [(str(milk_lot.id), 2)])], [(w.wh1, 4, "B-1")])


def test_consuming_more_of_a_lot_than_it_holds_is_refused(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    with refused_without_writes(
        session, InsufficientQuantity, match="F-1 of FLOUR has 10.*11.* requested"
    ) as tx:
        execute(tx, "WO-1", w.bread, [(w.flour, w.wh1, 11, [("F-1", 11)])], [(w.wh1, 4, "B-1")])


def test_a_replayed_execution_returns_the_original(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    production.create_work_order(session, WorkOrderIn(number="WO-1", item="BREAD", planned_quantity=D(10)))
    data = ExecutionIn(
        occurred_at=at(1),
        external_ref="MES-42",
        consume=[{"item": "FLOUR", "location": "WH1", "quantity": D(2)}],
        produce=[{"location": "WH1", "quantity": D(4), "lot_code": "B-1"}],
    )
    first = run(session, lambda tx: production.execute(tx, "WO-1", data))
    state = database_state(session)
    again = run(session, lambda tx: production.execute(tx, "WO-1", data))
    assert again.replayed and not first.replayed
    assert again.execution.id == first.execution.id
    assert again.consumed.movement.id == first.consumed.movement.id
    assert again.produced.movement.id == first.produced.movement.id
    assert database_state(session) == state


def test_a_closed_work_order_cannot_be_executed(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    wo = production.create_work_order(
        session, WorkOrderIn(number="WO-1", item="BREAD", planned_quantity=D(10))
    )
    production.set_status(session, wo, "closed")
    with refused_without_writes(session, InvalidStateTransition, match="WO-1 is closed") as tx:
        execute(tx, "WO-1", w.bread, [(w.flour, w.wh1, 2, [("F-1", 2)])], [(w.wh1, 4, "B-1")], create=False)


def test_executing_an_unknown_work_order_is_not_found(session, w):
    with refused_without_writes(session, NotFound, match="WO-404") as tx:
        execute(tx, "WO-404", w.bread, [], [(w.wh1, 4, "B-1")], create=False)


def test_untracked_output_carries_no_lots_and_no_produce_links(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    done = execute(session, "WO-S", w.salt, [(w.flour, w.wh1, 2, [("F-1", 2)])], [(w.wh1, 4, "unused")])
    assert lot_rows_of(session, done.execution.produce_movement_id) == []
    assert _links(session, done.execution.id, "produce") == set()
    assert len(_links(session, done.execution.id, "consume")) == 1
    assert count(session, LotGenealogyEdge) == 0
    assert count(session, InventoryMovementLot) == 2  # receipt + consume


def test_an_output_lot_that_exists_is_topped_up_beside_a_new_one_made_with_the_consumption(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    existing = lots_service.create_lot(session, w.bread, NewLot(lot_code="B-1"))  # not made by a posting
    ex = execute(
        session, "WO-1", w.bread, [(w.flour, w.wh1, 2, [("F-1", 2)])], [(w.wh1, 4, "B-1"), (w.wh2, 3, "B-2")],
        when=at(1),
    )
    b2 = lots_service.find_lot(session, "B-2", item_ref="BREAD")
    assert count(session, Lot, Lot.item_id == w.bread.id) == 2
    assert (b2.manufactured_at, b2.expires_at) == (at(1), at(1 + 5))
    assert balance(session, w.bread, w.wh1, existing) == 4 and balance(session, w.bread, w.wh2, b2) == 3
    assert {r.lot_id for r in ex.produced.lot_rows[0] + ex.produced.lot_rows[1]} == {existing.id, b2.id}


def test_two_output_lines_naming_one_new_lot_make_it_once(session, w):
    receive(session, w.flour, w.wh1, "F-1", 10)
    execute(session, "WO-1", w.bread, [(w.flour, w.wh1, 2, [("F-1", 2)])], [(w.wh1, 4, "B-1"), (w.wh2, 3, "B-1")])
    lot = lots_service.find_lot(session, "B-1", item_ref="BREAD")
    assert count(session, Lot, Lot.item_id == w.bread.id) == 1
    assert balance(session, w.bread, w.wh1, lot) == 4 and balance(session, w.bread, w.wh2, lot) == 3

