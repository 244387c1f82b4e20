"""Work orders and executions: consumption and output posted together, with lot genealogy.

An execution posts its production_consume and production_produce movements in the caller's
transaction and writes a ``work_order_lot_links`` row for every lot row of both (role consume /
produce), plus the derived ``lot_genealogy_edges`` (every consumed lot -> every produced lot) that
the trace engine walks. Output lots are created on the first execution that produces them (expiry
from the item's shelf life) and topped up by later ones.

Raises: NotFound, InvalidStateTransition (work order not open), DuplicateKey, and everything the
posting service raises.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.db import pages
from lotline.errors import InvalidStateTransition, NotFound
from lotline.inventory import service as inventory
from lotline.lots import service as lots_service
from lotline.lots.schemas import NewLot
from lotline.models import (
    Item,
    Location,
    LotGenealogyEdge,
    WorkOrder,
    WorkOrderExecution,
    WorkOrderLotLink,
)
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.types import utcnow


@dataclass
class Executed:
    execution: WorkOrderExecution
    consumed: inventory.Posted | None
    produced: inventory.Posted | None
    replayed: bool = False


def create_work_order(session: Session, data: WorkOrderIn) -> WorkOrder:
    item = catalog.resolve(session, Item, data.item)
    wo = WorkOrder(
        number=data.number,
        item_id=item.id,
        planned_quantity=data.planned_quantity,
        uom=item.uom,
        due_at=data.due_at,
        notes=data.notes,
    )
    session.add(wo)
    session.flush()
    return wo


def find_work_order(session: Session, ref: str | uuid.UUID, *, lock: bool = False) -> WorkOrder:
    wo_id = catalog.as_uuid(ref)
    query = sa.select(WorkOrder).where(WorkOrder.id == wo_id if wo_id else WorkOrder.number == str(ref))
    wo = session.scalar(query.with_for_update() if lock else query)
    if wo is None:
        raise NotFound(f"unknown work order {str(ref)!r}", kind="work_order", ref=str(ref))
    return wo


def set_status(session: Session, wo: WorkOrder, status: str) -> WorkOrder:
    if wo.status != "open" or status not in ("closed", "canceled"):
        raise InvalidStateTransition(f"work order {wo.number} cannot go from {wo.status} to {status}")
    wo.status = status
    wo.updated_at = sa.func.now()
    session.flush()
    return wo


def execute(session: Session, work_order_ref: str | uuid.UUID, data: ExecutionIn) -> Executed:
    """Post one execution of an open work order (consume + produce + lot links + genealogy)."""
    if data.external_ref:
        inventory.lock_external_ref(session, data.external_ref, kind="execution")
        existing = session.scalar(
            sa.select(WorkOrderExecution).where(WorkOrderExecution.external_ref == data.external_ref)
        )
        if existing is not None:
            return Executed(
                existing,
                inventory.get_movement(session, existing.consume_movement_id)
                if existing.consume_movement_id
                else None,
                inventory.get_movement(session, existing.produce_movement_id)
                if existing.produce_movement_id
                else None,
                replayed=True,
            )
    wo = find_work_order(session, work_order_ref, lock=True)
    if wo.status != "open":
        raise InvalidStateTransition(
            f"work order {wo.number} is {wo.status}; only open work orders can be executed"
        )
    occurred_at = data.occurred_at or utcnow()
    items = catalog.resolve_many(
        session,
        Item,
        [x.item for x in data.consume] + [x.item or wo.item_id for x in data.produce],
        context="execution",
    )
    locations = catalog.resolve_many(
        session,
        Location,
        [x.location for x in data.consume] + [x.location for x in data.produce],
        context="execution",
    )

    consumed = None
    if data.consume:
        stock = inventory.lock_stock(
            session, [(items[ln.item].id, locations[ln.location].id) for ln in data.consume]
        )
        lines = []
        for n, ln in enumerate(data.consume, start=1):
            item, location = items[ln.item], locations[ln.location]
            taken = inventory.outbound_lots(
                session, item, location, ln.quantity, ln.lots, occurred_at, context=f"consume line {n}", stock=stock
            )
            lines.append(inventory.Line(item, location, -ln.quantity, taken))
        consumed = inventory.post_movement(
            session, "production_consume", occurred_at, lines, notes=wo.number, locked=stock
        )

    lines = []
    for out in data.produce:
        item, location = items[out.item or wo.item_id], locations[out.location]
        lots = []
        if item.lot_tracked:
            lot = lots_service.lots_of_item(session, item, [out.lot_code]).get(out.lot_code)
            if lot is None:
                lot = lots_service.create_lot(
                    session,
                    item,
                    NewLot(
                        lot_code=out.lot_code,
                        manufactured_at=occurred_at,
                        expires_at=out.expires_at,
                        notes=out.notes,
                    ),
                )
            lots = [inventory.LotDelta(lot, out.quantity)]
        lines.append(inventory.Line(item, location, out.quantity, lots))
    produced = inventory.post_movement(session, "production_produce", occurred_at, lines, notes=wo.number)

    execution = WorkOrderExecution(
        work_order_id=wo.id,
        occurred_at=occurred_at,
        consume_movement_id=consumed.movement.id if consumed else None,
        produce_movement_id=produced.movement.id,
        external_ref=data.external_ref,
        notes=data.notes,
    )
    session.add(execution)
    session.flush()
    _link_lots(session, execution, consumed, produced)
    return Executed(execution, consumed, produced)


def _link_lots(
    session: Session,
    execution: WorkOrderExecution,
    consumed: inventory.Posted | None,
    produced: inventory.Posted,
) -> None:
    consume_rows = [r for rows in consumed.lot_rows for r in rows] if consumed else []
    produce_rows = [r for rows in produced.lot_rows for r in rows]
    session.add_all(
        [
            WorkOrderLotLink(
                work_order_execution_id=execution.id, inventory_movement_lot_id=r.id, role="consume"
            )
            for r in consume_rows
        ]
        + [
            WorkOrderLotLink(
                work_order_execution_id=execution.id, inventory_movement_lot_id=r.id, role="produce"
            )
            for r in produce_rows
        ]
    )
    used: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    made: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for r in consume_rows:
        used[r.lot_id] += -r.quantity_delta
    for r in produce_rows:
        made[r.lot_id] += r.quantity_delta
    session.add_all(
        [
            LotGenealogyEdge(
                work_order_execution_id=execution.id,
                parent_lot_id=parent,
                child_lot_id=child,
                consumed_quantity=used[parent],
                produced_quantity=made[child],
                occurred_at=execution.occurred_at,
            )
            for parent in used
            for child in made
        ]
    )
    session.flush()


def work_orders_page(session: Session, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of (work order, sku) rows by number."""
    query = sa.select(WorkOrder, Item.sku).join(Item, Item.id == WorkOrder.item_id)
    return pages.page(session, query, [WorkOrder.number], lambda r: (r[0].number,), after=after, limit=limit)


def list_work_orders(session: Session, *, limit: int = 200):
    return session.execute(
        sa.select(WorkOrder, Item.sku)
        .join(Item, Item.id == WorkOrder.item_id)
        .order_by(WorkOrder.number)
        .limit(limit)
    ).all()
