"""Idempotency under concurrency: the same external reference posted twice at the same time posts
once; the second caller waits and gets the original back (not an error, not a second posting)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn, TransferIn
from lotline.models import InventoryMovement, Lot, SalesOrderShipment, WorkOrderExecution
from lotline.production import service as production
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.sales import service as sales
from lotline.sales.schemas import ShipmentIn
from tests.builders import at, make_customer, make_item, make_location, make_vendor, order, receive
from tests.racing import race

pytestmark = pytest.mark.concurrency
D = Decimal


def _world(stock: int = 0):
    with db.transaction() as s:
        flour = make_item(s, "FLOUR")
        make_item(s, "BREAD", uom="ea")
        wh = make_location(s, "WH1")
        make_location(s, "WH2")
        make_vendor(s)
        shop = make_customer(s)
        if stock:
            receive(s, flour, wh, "F-1", stock)
        order(s, "SO-1", shop, [(flour, 100, None)])
        production.create_work_order(s, WorkOrderIn(number="WO-1", item="BREAD", planned_quantity=D(1)))


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


RECEIPT = ReceiptIn(
    vendor="MILL",
    occurred_at=at(),
    external_ref="PO-1",
    lines=[
        {
            "item": "FLOUR",
            "location": "WH1",
            "quantity": D(5),
            "lots": [{"lot_code": "F-9", "quantity": D(5)}],
        }
    ],
)
TRANSFER = TransferIn(
    item="FLOUR",
    from_location="WH1",
    to_location="WH2",
    quantity=D(3),
    occurred_at=at(1),
    external_ref="MV-1",
)
SHIPMENT = ShipmentIn(
    shipped_at=at(2), external_ref="ASN-1", lines=[{"line_no": 1, "location": "WH1", "quantity": D(3)}]
)
EXECUTION = ExecutionIn(
    occurred_at=at(1),
    external_ref="MES-1",
    consume=[{"item": "FLOUR", "location": "WH1", "quantity": D(3)}],
    produce=[{"location": "WH1", "quantity": D(6), "lot_code": "B-1"}],
)

CASES = {
    # case: (use case, table, rows expected in it afterwards)
    "receipt": (lambda s: inventory.receive(s, RECEIPT), InventoryMovement, 1),
    "transfer": (lambda s: inventory.transfer(s, TRANSFER), InventoryMovement, 2),  # + the stock receipt
    "shipment": (lambda s: sales.ship(s, "SO-1", SHIPMENT), SalesOrderShipment, 1),
    "execution": (lambda s: production.execute(s, "WO-1", EXECUTION), WorkOrderExecution, 1),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_external_reference_posted_concurrently_posts_once(committed_engine, case):
    fn, model, expected = CASES[case]
    _world(stock=0 if case == "receipt" else 10)
    first, second = race(committed_engine, fn, fn)
    assert first.error is None and second.error is None, (first.error, second.error)
    assert not getattr(first.result, "replayed", True) and second.result.replayed
    assert _count(committed_engine, model) == expected
    if case == "receipt":
        assert _count(committed_engine, Lot) == 1  # the lot is not created twice either
