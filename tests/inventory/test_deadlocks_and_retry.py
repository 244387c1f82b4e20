"""Concurrent FEFO transfers in opposite directions lock balance rows in one global order, and the
entrypoints retry what the database still rolls back (deadlock, serialization failure, lock timeout)
a bounded number of times: no deadlock reaches a client. Real commits on several connections."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.db import retry
from lotline.errors import ConcurrencyConflict, InvalidStateTransition
from lotline.inventory import service as inventory
from lotline.inventory.schemas import TransferIn
from lotline.models import InventoryBalance, Location
from tests.builders import at, make_item, make_location, make_vendor, receive

pytestmark = pytest.mark.concurrency
D = Decimal
TRANSFERS, THREADS = 200, 8


def test_two_hundred_fefo_transfers_in_opposite_directions_all_post(committed_engine, monkeypatch):
    with db.transaction() as s:
        flour = make_item(s, "FLOUR")
        wh1, wh2 = make_location(s, "WH1").id, make_location(s, "WH2").id
        make_vendor(s)
        for n in range(4):  # the same lots at both places, so both directions pick the same rows
            lot = receive(s, flour, _loc(s, "WH1"), f"F-{n}", 1000, expires_at=at(30 + n))
            inventory.transfer(
                s,
                TransferIn(
                    item="FLOUR",
                    from_location="WH1",
                    to_location="WH2",
                    quantity=D(500),
                    lots=[{"lot": lot.lot_code, "quantity": D(500)}],
                    occurred_at=at(1),
                ),
            )
    retried = []
    real_delay = retry.delay
    monkeypatch.setattr(retry, "delay", lambda attempt: retried.append(attempt) or real_delay(attempt))

    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def worker(k: int) -> None:
        barrier.wait()
        for i in range(k, TRANSFERS, THREADS):
            src, dst = ("WH1", "WH2") if i % 2 else ("WH2", "WH1")
            data = TransferIn(
                item="FLOUR", from_location=src, to_location=dst, quantity=D(3), occurred_at=at(2)
            )
            try:
                retry.run_transaction(lambda s, data=data: inventory.transfer(s, data))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with committed_engine.connect() as conn:
        moves = conn.execute(
            sa.text("SELECT count(*) FROM inventory_movements WHERE movement_type = 'transfer'")
        ).scalar()
        total = conn.execute(sa.select(sa.func.sum(InventoryBalance.quantity))).scalar()
        per_place = dict(
            conn.execute(
                sa.select(InventoryBalance.location_id, sa.func.sum(InventoryBalance.quantity)).group_by(
                    InventoryBalance.location_id
                )
            ).all()
        )
    assert moves == 4 + TRANSFERS and total == 4000
    assert per_place == {wh1: D(2000), wh2: D(2000)}  # 100 transfers each way
    print(f"retried attempts: {len(retried)}")


def _loc(s, code):
    return s.scalar(sa.select(Location).where(Location.code == code))


def test_a_retryable_failure_runs_the_use_case_again_and_others_do_not(connection):
    calls = []

    def flaky(session):
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrencyConflict("deadlock", sqlstate="40P01")
        return "done"

    assert retry.run_transaction(flaky) == "done" and len(calls) == 3
    calls.clear()
    with pytest.raises(InvalidStateTransition):
        retry.run_transaction(
            lambda s: calls.append(1) or (_ for _ in ()).throw(InvalidStateTransition("no"))
        )
    assert len(calls) == 1


def test_retries_are_bounded(connection, monkeypatch):
    monkeypatch.setattr(retry, "delay", lambda attempt: 0)
    calls = []

    def always(session):
        calls.append(1)
        raise ConcurrencyConflict("serialization failure", sqlstate="40001")

    with pytest.raises(ConcurrencyConflict):
        retry.run_transaction(always)
    assert len(calls) == retry.ATTEMPTS


def test_the_api_reruns_a_posting_that_hit_a_deadlock(client, monkeypatch):
    for p, body in [
        ("/items", {"sku": "FLOUR", "name": "Flour", "uom": "kg"}),
        ("/locations", {"code": "WH", "name": "Warehouse"}),
        ("/vendors", {"code": "MILL", "name": "Mill"}),
    ]:
        assert client.post(p, json=body).status_code == 201
    real = inventory.receive
    calls = []

    def deadlocks_once(session, data):
        calls.append(1)
        posted = real(session, data)
        if len(calls) == 1:  # after writing: the retry must start from a rolled-back transaction
            raise ConcurrencyConflict("deadlock detected", sqlstate="40P01")
        return posted

    monkeypatch.setattr(inventory, "receive", deadlocks_once)
    body = {
        "vendor": "MILL",
        "occurred_at": "2026-01-05T08:00:00Z",
        "lines": [
            {
                "item": "FLOUR",
                "location": "WH",
                "quantity": "5",
                "lots": [{"lot_code": "F-1", "quantity": "5"}],
            }
        ],
    }
    r = client.post("/receipts", json=body)
    assert r.status_code == 201, r.text
    assert len(calls) == 2
    assert len(client.get("/movements").json()["items"]) == 1


def test_a_transfer_locks_its_destinations_stocked_rows_though_it_does_not_read_them(committed_engine):
    with db.transaction() as s:
        flour = make_item(s, "FLOUR")
        make_location(s, "WH1")
        make_location(s, "WH2")
        make_vendor(s)
        receive(s, flour, _loc(s, "WH1"), "F-1", 10, expires_at=at(30))
        receive(s, flour, _loc(s, "WH2"), "F-2", 10, expires_at=at(31))
    # F-2 at WH2 is no part of the transfer's lines: only the up-front lock of both places holds it,
    # which orders this transfer against one going the other way
    f2_at_wh2 = sa.text(
        "SELECT 1 FROM inventory_balances b JOIN lots l ON l.id = b.lot_id "
        "WHERE l.lot_code = 'F-2' FOR UPDATE OF b NOWAIT"
    )
    with db.transaction() as s:
        inventory.transfer(
            s, TransferIn(item="FLOUR", from_location="WH1", to_location="WH2", quantity=D(3), occurred_at=at(2))
        )
        with committed_engine.connect() as other, pytest.raises(sa.exc.DBAPIError, match="could not obtain lock"):
            other.execute(f2_at_wh2)
    with committed_engine.connect() as other:  # committed: free again
        assert other.execute(f2_at_wh2).scalar() == 1
