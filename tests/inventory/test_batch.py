"""Batched posting (inventory/batch.py): many documents in one transaction, the same rules and errors.

A batch must post exactly what the same documents posted one by one would — balances, ledger,
genealogy, shipments, audit — and refuse the same document with the same error, naming it.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.errors import InsufficientQuantity, LotNotReleased, OverShipment
from lotline.inventory import batch
from lotline.inventory import service as inventory
from lotline.inventory.batch_schemas import BatchIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.models import InventoryMovement, Item, Location, Lot, LotGenealogyEdge, SalesOrderShipment
from lotline.production import service as production
from lotline.production.schemas import WorkOrderIn
from tests.builders import at, make_item, make_location, make_vendor, receive
from tests.support import balance, ledger_quantity, refused_without_writes, run

D = Decimal


def receipt_doc(item, location, lot, qty, when, ref=None) -> dict:
    return {
        "kind": "receipt",
        "data": {
            "vendor": "MILL",
            "occurred_at": when,
            "external_ref": ref,
            "lines": [{"item": item.sku, "location": location.code, "quantity": D(qty),
                       "lots": [{"lot_code": lot, "quantity": D(qty)}]}],
        },
    }


def scrap_doc(item, location, lot, qty, when) -> dict:
    return {"kind": "scrap", "data": {"item": item.sku, "location": location.code, "quantity": D(qty),
                                      "lots": [{"lot": lot, "quantity": D(qty)}], "occurred_at": when}}


def a_day_of_documents(w) -> list[dict]:
    """Receive two lots, move some, bake bread from both, order it and ship it: every kind that posts."""
    return [
        receipt_doc(w.flour, w.wh1, "F1", "100", at(1)),
        receipt_doc(w.milk, w.wh1, "M1", "50", at(1, hours=1)),
        {"kind": "transfer", "data": {"item": w.flour.sku, "from_location": "WH1", "to_location": "WH2",
                                      "quantity": D(30), "occurred_at": at(1, hours=2)}},
        {"kind": "execution", "work_order": "WO-1", "data": {
            "occurred_at": at(1, hours=3),
            "consume": [{"item": w.flour.sku, "location": "WH1", "quantity": D(20)},
                        {"item": w.milk.sku, "location": "WH1", "quantity": D(10)}],
            "produce": [{"item": w.bread.sku, "location": "WH1", "quantity": D(40), "lot_code": "B1"}],
        }},
        {"kind": "sales_order", "data": {"number": "SO-1", "customer": "SHOP", "ordered_at": at(1, hours=3),
                                         "lines": [{"item": w.bread.sku, "quantity": D(25), "due_date": "2026-01-07"}]}},
        {"kind": "shipment", "order": "SO-1", "data": {"shipped_at": at(1, hours=4),
                                                       "lines": [{"line_no": 1, "location": "WH1", "quantity": D(25)}]}},
        {"kind": "adjustment", "data": {"reason": "count", "occurred_at": at(1, hours=5), "lines": [
            {"item": w.flour.sku, "location": "WH2", "quantity": D(-2), "lots": [{"lot": "F1", "quantity": D(-2)}]}]}},
    ]


def state(session, w) -> dict:
    lots = {x.lot_code: x for x in session.scalars(sa.select(Lot))}
    return {
        "balances": {
            (item.sku, loc.code, code): balance(session, item, loc, lots[code])
            for item, code in ((w.flour, "F1"), (w.milk, "M1"), (w.bread, "B1"))
            for loc in (w.wh1, w.wh2)
        },
        "ledger": {
            (item.sku, loc.code, code): ledger_quantity(session, item, loc, lots[code])
            for item, code in ((w.flour, "F1"), (w.milk, "M1"), (w.bread, "B1"))
            for loc in (w.wh1, w.wh2)
        },
        "movements": sorted(session.scalars(sa.select(InventoryMovement.movement_type))),
        "edges": sorted(
            (e.consumed_quantity, e.produced_quantity) for e in session.scalars(sa.select(LotGenealogyEdge))
        ),
        "shipments": session.scalar(sa.select(sa.func.count()).select_from(SalesOrderShipment)),
    }


@pytest.fixture
def wo(session, w):
    return production.create_work_order(session, WorkOrderIn(number="WO-1", item=w.bread.sku, planned_quantity=D(1000)))


def test_a_batch_posts_what_the_same_documents_post_one_by_one(session, w, wo):
    docs = a_day_of_documents(w)
    result = run(session, lambda tx: batch.post_batch(tx, BatchIn(documents=docs)))
    assert [r.outcome for r in result.results] == ["posted"] * len(docs)
    batched = state(session, w)
    assert batched["balances"] == batched["ledger"]
    assert batched["balances"][(w.flour.sku, "WH1", "F1")] == D(50)
    assert batched["balances"][(w.bread.sku, "WH1", "B1")] == D(15)
    assert batched["edges"] == [(D(10), D(40)), (D(20), D(40))]
    assert batched["shipments"] == 1


def test_a_batch_and_the_same_documents_one_by_one_leave_the_same_ledger(session, w, wo):
    for doc in a_day_of_documents(w):
        run(session, lambda tx, d=doc: batch.post_batch(tx, BatchIn(documents=[d])))
    one_by_one = state(session, w)
    # the same day for a second set of items, in one batch
    twin = SimpleNamespace(
        flour=make_item(session, "FLOUR-2"), milk=make_item(session, "MILK-2", uom="l", shelf_life_days=10),
        bread=make_item(session, "BREAD-2", uom="ea", shelf_life_days=5), wh1=w.wh1, wh2=w.wh2,
    )
    production.create_work_order(session, WorkOrderIn(number="WO-2", item=twin.bread.sku, planned_quantity=D(1000)))
    text = BatchIn(documents=a_day_of_documents(twin)).model_dump_json()
    for old, new in (('"F1"', '"F2"'), ('"M1"', '"M2"'), ('"B1"', '"B2"'), ('"SO-1"', '"SO-2"'), ('"WO-1"', '"WO-2"')):
        text = text.replace(old, new)
    run(session, lambda tx: batch.post_batch(tx, BatchIn.model_validate_json(text)))
    lots = {(x.item_id, x.lot_code): x for x in session.scalars(sa.select(Lot))}
    for a, b in ((w.flour, twin.flour), (w.milk, twin.milk), (w.bread, twin.bread)):
        code = a.sku[0] + "1"
        for loc in (w.wh1, w.wh2):
            assert balance(session, a, loc, lots[(a.id, code)]) == balance(session, b, loc, lots[(b.id, code[0] + "2")])
    assert len(state(session, w)["movements"]) == 2 * len(one_by_one["movements"])


def test_a_refused_document_refuses_the_batch_naming_it_and_writes_nothing(session, w, wo):
    docs = [
        receipt_doc(w.flour, w.wh1, "F1", "10", at(1)),
        scrap_doc(w.flour, w.wh1, "F1", "4", at(2)),
        scrap_doc(w.flour, w.wh1, "F1", "7", at(3)),  # only 6 left
    ]
    with refused_without_writes(session, InsufficientQuantity, match=r"^document 3 \(scrap\): line 1") as tx:
        batch.post_batch(tx, BatchIn(documents=docs))


def test_a_back_dated_document_in_a_batch_may_not_take_what_a_later_one_of_the_batch_needed(session, w, wo):
    docs = [
        receipt_doc(w.flour, w.wh1, "F1", "10", at(1)),
        scrap_doc(w.flour, w.wh1, "F1", "6", at(3)),
        {"kind": "adjustment", "data": {"reason": "found", "occurred_at": at(4), "lines": [
            {"item": w.flour.sku, "location": "WH1", "quantity": D(5), "lots": [{"lot": "F1", "quantity": D(5)}]}]}},
        # 9 on hand now, but 10 - 5 on day 2 leaves 5 for day 3's 6: refused
        scrap_doc(w.flour, w.wh1, "F1", "5", at(2)),
    ]
    with refused_without_writes(session, InsufficientQuantity, match=r"^document 4 \(scrap\).*below zero") as tx:
        batch.post_batch(tx, BatchIn(documents=docs))


def test_a_batch_that_is_not_atomic_posts_the_others_and_reports_the_refused_one(session, w, wo):
    docs = [
        receipt_doc(w.flour, w.wh1, "F1", "10", at(1)),
        scrap_doc(w.flour, w.wh1, "F1", "11", at(2)),  # refused: rolled back to its savepoint
        scrap_doc(w.flour, w.wh1, "F1", "3", at(3)),
        {"kind": "shipment", "order": "NO-SUCH", "data": {"lines": [{"line_no": 1, "location": "WH1", "quantity": 1}]}},
    ]
    result = run(session, lambda tx: batch.post_batch(tx, BatchIn(documents=docs, atomic=False)))
    assert [r.outcome for r in result.results] == ["posted", "refused", "posted", "refused"]
    assert result.results[1].code == "insufficient_quantity"
    assert result.results[1].message.startswith("document 2 (scrap): ")
    assert result.results[3].code == "not_found"
    lot = session.scalar(sa.select(Lot).where(Lot.lot_code == "F1"))
    assert balance(session, w.flour, w.wh1, lot) == D(7) == ledger_quantity(session, w.flour, w.wh1, lot)


def test_a_status_change_between_batches_is_seen_by_the_next_document(session, w, wo):
    docs = [receipt_doc(w.bread, w.wh1, "B1", "10", at(1))]
    run(session, lambda tx: batch.post_batch(tx, BatchIn(documents=docs)))

    def block_then_ship(tx):
        order = {"kind": "sales_order", "data": {"number": "SO-9", "customer": "SHOP", "ordered_at": at(2),
                                                 "lines": [{"item": w.bread.sku, "quantity": D(1), "due_date": "2026-01-08"}]}}
        ship = {"kind": "shipment", "order": "SO-9", "data": {"shipped_at": at(2),
                                                              "lines": [{"line_no": 1, "location": "WH1", "quantity": D(1),
                                                                         "lots": [{"lot": "B1", "quantity": D(1)}]}]}}
        batch.post_batch(tx, BatchIn(documents=[order]))
        lot = tx.scalar(sa.select(Lot).where(Lot.lot_code == "B1"))
        # the lot was locked and remembered by this transaction; the change must not be missed
        lots_service.change_status(tx, lot, LotStatusChange(status="blocked", reason="hold"))
        batch.post_batch(tx, BatchIn(documents=[ship]))

    with refused_without_writes(session, LotNotReleased, match=r"^document 1 \(shipment\).*blocked") as tx:
        block_then_ship(tx)


def test_an_external_reference_given_twice_in_a_batch_posts_once(session, w, wo):
    docs = [receipt_doc(w.flour, w.wh1, "F1", "10", at(1), ref="ERP-1"),
            receipt_doc(w.flour, w.wh1, "F1", "10", at(1), ref="ERP-1")]
    result = run(session, lambda tx: batch.post_batch(tx, BatchIn(documents=docs)))
    assert [r.outcome for r in result.results] == ["posted", "replayed"]
    assert result.results[0].movements == result.results[1].movements


def test_over_shipping_in_a_batch_is_refused_like_one_by_one(session, w, wo):
    docs = [
        receipt_doc(w.bread, w.wh1, "B1", "10", at(1)),
        {"kind": "sales_order", "data": {"number": "SO-1", "customer": "SHOP", "ordered_at": at(1),
                                         "lines": [{"item": w.bread.sku, "quantity": D(5), "due_date": "2026-01-07"}]}},
        {"kind": "shipment", "order": "SO-1", "data": {"shipped_at": at(2),
                                                       "lines": [{"line_no": 1, "location": "WH1", "quantity": D(3)}]}},
        {"kind": "shipment", "order": "SO-1", "data": {"shipped_at": at(2),
                                                       "lines": [{"line_no": 1, "location": "WH1", "quantity": D(3)}]}},
    ]
    with refused_without_writes(session, OverShipment, match=r"^document 4 \(shipment\)") as tx:
        batch.post_batch(tx, BatchIn(documents=docs))


def test_every_row_a_batch_writes_has_its_audit_entry(session, w, wo):
    run(session, lambda tx: batch.post_batch(tx, BatchIn(documents=a_day_of_documents(w))))
    for table in ("inventory_movements", "inventory_movement_lines", "inventory_movement_lots",
                  "work_order_executions", "work_order_lot_links", "sales_order_shipments", "shipment_lot_links"):
        # audit_log is append-only: entries committed by other tests stay after their rows are
        # cleaned up, so count per row (an entry names its row by id) and per this transaction.
        unaudited = session.scalar(sa.text(f"""
            SELECT count(*) FROM {table} t WHERE NOT EXISTS (
                SELECT 1 FROM audit_log a
                WHERE a.table_name = :t AND a.operation = 'INSERT' AND a.record_id = t.id::text)
        """), {"t": table})
        written, of_rows = session.execute(sa.text(f"""
            SELECT count(*), count(t.id) FROM audit_log a LEFT JOIN {table} t ON a.record_id = t.id::text
            WHERE a.table_name = :t AND a.operation = 'INSERT' AND a.txid = pg_current_xact_id()::text::bigint
        """), {"t": table}).one()
        assert unaudited == 0 and written > 0 and of_rows == written, table


@pytest.mark.concurrency
def test_a_pick_from_held_rows_sees_stock_another_posting_committed_since(committed_engine):
    """A batch locked a place's stocked rows when it had none; a receipt commits a lot there; the
    batch's next pick from that place must find it (read again), as a posting on its own would."""
    with db.transaction() as s:
        flour, wh = make_item(s, "FLOUR"), make_location(s, "WH1")
        make_vendor(s)
    with db.transaction() as batch_tx:
        inventory.lock_stock(batch_tx, [(flour.id, wh.id)])  # held: the place has no stock yet
        with db.transaction() as other:
            receive(other, flour, wh, "F-1", 10, when=at(1))
        taken = inventory.outbound_lots(
            batch_tx, batch_tx.get_one(Item, flour.id), batch_tx.get_one(Location, wh.id), D(4), None, at(2),
            context="scrap",
        )
    assert [(x.lot.lot_code, x.quantity_delta) for x in taken] == [("F-1", D(-4))]
