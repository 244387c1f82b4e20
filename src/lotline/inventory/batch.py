"""Batched posting: many documents — receipts, transfers, adjustments, scraps, returns, work order
executions, sales orders and shipments — in the caller's one transaction, with the same services
and the same lot rules as one document at a time.

Why: on this kind of server a posting's few statements cost less than its commit (the WAL flush),
and documents of one batch (an ERP's day, a spreadsheet, an EPCIS chunk) touch the same lots and
places again and again. A batch commits once and locks and reads each balance row and lot once
(``held``).

How, in order:
1. the stocked balance rows of every (item, location) the batch takes from — transfers, scraps,
   consumption, shipments of existing orders — are locked in one statement in the global order
   (``balances.lock_stock``), so two batches over the same places queue instead of deadlocking;
2. each document is posted by its own service, in the batch's order (the orders' fill state is
   re-derived once, after the last document: ``sales.defer_line_fills``). The rules (``rules.validate``,
   ``rules.check_lots``, ``check_returns``, ``balances.apply`` with its back-dated ledger read)
   see every earlier document of the batch — its rows are written before the next document is
   checked — so a batch posts exactly what the same documents posted one by one would, or refuses
   the same document with the same error;
3. ``atomic`` (the default): the first refusal raises the service's own error, its message
   prefixed with ``document N (kind)`` (N from 1, ``details["document"] = N``), and the caller's
   transaction rolls the whole batch back. ``atomic=False``: each document runs in a savepoint; a
   refused one is rolled back alone and reported with its error, the others post.

Idempotency keys (``external_ref``) replay as they do one by one (``replayed``), also within a batch.

Raises: everything the services raise, prefixed as above (atomic batches only).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.db import errors as db_errors
from lotline.errors import LotlineError
from lotline.inventory import service as inventory
from lotline.inventory.batch_schemas import (
    BatchDocument,
    BatchIn,
    ExecutionDocument,
    SalesOrderDocument,
    ShipmentDocument,
)
from lotline.models import Item, Location, SalesOrder, SalesOrderLine
from lotline.production import service as production
from lotline.sales import service as sales


@dataclass
class DocumentResult:
    """What became of one document of a batch."""

    index: int  # from 1, in the batch's order
    kind: str
    outcome: str  # posted | replayed | refused
    movements: list[uuid.UUID] = field(default_factory=list)
    record: uuid.UUID | None = None  # the execution, sales order or shipment
    code: str | None = None
    message: str | None = None


@dataclass
class BatchResult:
    results: list[DocumentResult]

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("posted", "replayed", "refused"), 0)
        for r in self.results:
            out[r.outcome] += 1
        return out


def _movements(*posted: inventory.Posted | None) -> list[uuid.UUID]:
    return [p.movement.id for p in posted if p is not None]


def _post(session: Session, doc: BatchDocument, index: int) -> DocumentResult:
    """One document through its service."""
    kind = doc.kind
    if isinstance(doc, ExecutionDocument):
        done = production.execute(session, doc.work_order, doc.data)
        return DocumentResult(
            index, kind, "replayed" if done.replayed else "posted", _movements(done.consumed, done.produced),
            done.execution.id,
        )
    if isinstance(doc, ShipmentDocument):
        shipped = sales.ship(session, doc.order, doc.data)
        return DocumentResult(
            index, kind, "replayed" if shipped.replayed else "posted", _movements(shipped.posted), shipped.shipment.id
        )
    if isinstance(doc, SalesOrderDocument):
        order = sales.create_order(session, doc.data)
        return DocumentResult(index, kind, "posted", [], order.id)
    posted = _INVENTORY[kind](session, doc.data)
    return DocumentResult(index, kind, "replayed" if posted.replayed else "posted", _movements(posted))


_INVENTORY: dict[str, Callable[[Session, Any], inventory.Posted]] = {
    "receipt": inventory.receive,
    "transfer": inventory.transfer,
    "adjustment": inventory.adjust,
    "scrap": inventory.scrap,
    "return": inventory.return_goods,
}


def _taking_pairs(session: Session, docs: Sequence[BatchDocument]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(item, location) pairs the batch takes stock from, by reference, resolved in one query per kind.

    References that do not resolve are left out here: the document's own service refuses them.
    Orders that do not exist yet (created earlier in the batch) are left out too.
    """
    wanted: list[tuple[str | uuid.UUID, str | uuid.UUID]] = []
    orders: list[tuple[str, str]] = []  # (order ref, location ref)
    for doc in docs:
        d: Any = doc.data
        if doc.kind == "transfer":
            wanted += [(d.item, d.from_location), (d.item, d.to_location)]
        elif doc.kind == "scrap":
            wanted.append((d.item, d.location))
        elif doc.kind == "execution":
            wanted += [(ln.item, ln.location) for ln in d.consume]
        elif isinstance(doc, ShipmentDocument):
            orders += [(doc.order, ln.location) for ln in d.lines]
    items = _resolved(session, Item, [i for i, _ in wanted])
    locations = _resolved(session, Location, [loc for _, loc in wanted] + [loc for _, loc in orders])
    pairs = [(items[i], locations[loc]) for i, loc in wanted if i in items and loc in locations]
    if orders:
        refs = list(dict.fromkeys(o for o, _ in orders))
        ids = [x for x in (catalog.as_uuid(r) for r in refs) if x is not None]
        rows = session.execute(
            sa.select(SalesOrder.id, SalesOrder.number, SalesOrderLine.item_id)
            .join(SalesOrderLine, SalesOrderLine.sales_order_id == SalesOrder.id)
            .where(sa.or_(SalesOrder.number.in_(refs), SalesOrder.id.in_(ids)))
        ).all()
        items_of: dict[str, set[uuid.UUID]] = {}
        for r in rows:
            items_of.setdefault(r.number, set()).add(r.item_id)
            items_of.setdefault(str(r.id), set()).add(r.item_id)
        for ref, loc in orders:
            if loc in locations:
                pairs += [(item_id, locations[loc]) for item_id in items_of.get(str(ref), ())]
    return pairs


def _resolved(session: Session, model: type[Item] | type[Location], refs: list) -> dict:
    refs = list(dict.fromkeys(refs))
    if not refs:
        return {}
    found = {}
    ids = {r: catalog.as_uuid(r) for r in refs}
    key = model.sku if model is Item else model.code  # type: ignore[union-attr]
    for row in session.execute(
        sa.select(model.id, key).where(
            sa.or_(key.in_([str(r) for r in refs]), model.id.in_([i for i in ids.values() if i is not None]))
        )
    ):
        found[str(row[1])] = row[0]
        found[str(row[0])] = row[0]
    return {r: found[str(r)] for r in refs if str(r) in found}


def post_batch(session: Session, data: BatchIn) -> BatchResult:
    """Post ``data.documents`` in order in the caller's transaction (see module doc)."""
    catalog.remember_records(session)
    pairs = _taking_pairs(session, data.documents)
    if pairs:
        inventory.lock_stock(session, pairs)  # the batch's one up-front lock, in the global order
    results = []
    # the orders' fill state once, at the end: its customer-month sums are locked until commit
    sales.defer_line_fills(session)
    try:
        for n, doc in enumerate(data.documents, start=1):
            if data.atomic:
                try:
                    results.append(_post(session, doc, n))
                except LotlineError as exc:
                    raise _named(exc, n, doc.kind) from None
                except sa.exc.DBAPIError as exc:
                    translated = db_errors.translate(exc)
                    if translated is None:
                        raise
                    raise _named(translated, n, doc.kind) from exc
                continue
            results.append(_post_alone(session, doc, n))
        sales.refresh_deferred_line_fills(session)
    finally:
        sales.forget_deferred_line_fills(session)
    return BatchResult(results)


def _post_alone(session: Session, doc: BatchDocument, n: int) -> DocumentResult:
    """One document in its own savepoint: refused alone (rolled back to the savepoint) or posted."""
    savepoint = session.begin_nested()
    try:
        result = _post(session, doc, n)
        savepoint.commit()
        return result
    except LotlineError as exc:
        savepoint.rollback()
        named = _named(exc, n, doc.kind)
    except sa.exc.DBAPIError as exc:
        translated = db_errors.translate(exc)
        if translated is None:
            raise
        savepoint.rollback()
        named = _named(translated, n, doc.kind)
    return DocumentResult(n, doc.kind, "refused", code=named.code, message=named.message)


def _named(exc: LotlineError, n: int, kind: str) -> LotlineError:
    """The service's error, naming the document (its class, code and details kept)."""
    exc.message = f"document {n} ({kind}): {exc.message}"
    exc.args = (exc.message,)
    exc.details["document"] = n
    return exc
