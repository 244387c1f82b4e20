"""A batch re-derives its orders' fill state once, after its last document (sales.defer_line_fills):
the state must be exactly what the documents it posted leave, refused ones rolled back with theirs."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lotline.inventory import batch
from lotline.inventory.batch_schemas import BatchIn
from lotline.production import service as production
from lotline.production.schemas import WorkOrderIn
from tests.builders import at
from tests.inventory.test_batch import a_day_of_documents, receipt_doc
from tests.support import run

D = Decimal


@pytest.fixture
def wo(session, w):
    return production.create_work_order(session, WorkOrderIn(number="WO-1", item=w.bread.sku, planned_quantity=D(1000)))


def _fill_drift(session) -> int:
    return session.scalar(sa.text(
        "SELECT count(*) FROM ((SELECT * FROM sales_order_line_fills EXCEPT SELECT * FROM sales_order_line_fills_source)"
        " UNION ALL (SELECT * FROM sales_order_line_fills_source EXCEPT SELECT * FROM sales_order_line_fills)) d"
    ))


def _filled(session, number: str) -> Decimal:
    return session.scalar(sa.text(
        "SELECT f.filled_quantity FROM sales_order_line_fills f JOIN sales_orders o ON o.id = f.sales_order_id"
        " WHERE o.number = :n"
    ), {"n": number})


def test_a_batch_leaves_the_fill_state_of_its_orders_exact(session, w, wo):
    # the orders' fill state is re-derived once, after the batch's last document
    run(session, lambda tx: batch.post_batch(tx, BatchIn(documents=a_day_of_documents(w))))
    assert _filled(session, "SO-1") == D(25)
    assert _fill_drift(session) == 0


def test_a_batch_that_is_not_atomic_leaves_the_fill_state_of_what_it_posted_only(session, w, wo):
    docs = [
        receipt_doc(w.bread, w.wh1, "B1", "10", at(1)),
        {"kind": "sales_order", "data": {"number": "SO-1", "customer": "SHOP", "ordered_at": at(1),
                                         "lines": [{"item": w.bread.sku, "quantity": D(8), "due_date": "2026-01-07"}]}},
        {"kind": "shipment", "order": "SO-1", "data": {"shipped_at": at(2),
                                                       "lines": [{"line_no": 1, "location": "WH1", "quantity": D(3)}]}},
        # refused (only 5 left to ship): rolled back to its savepoint, its fill change with it
        {"kind": "shipment", "order": "SO-1", "data": {"shipped_at": at(2),
                                                       "lines": [{"line_no": 1, "location": "WH1", "quantity": D(6)}]}},
        {"kind": "shipment", "order": "SO-1", "data": {"shipped_at": at(2, hours=1),
                                                       "lines": [{"line_no": 1, "location": "WH1", "quantity": D(1)}]}},
    ]
    result = run(session, lambda tx: batch.post_batch(tx, BatchIn(documents=docs, atomic=False)))
    assert [r.outcome for r in result.results] == ["posted", "posted", "posted", "refused", "posted"]
    assert _filled(session, "SO-1") == D(4)
    assert _fill_drift(session) == 0
