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
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from psycopg import sql as pgsql
from sqlalchemy.orm import Session, make_transient_to_detached

from lotline.catalog import service as catalog
from lotline.db import pages, sql
from lotline.errors import InvalidStateTransition, NotFound
from lotline.inventory import refs
from lotline.inventory import service as inventory
from lotline.lots import service as lots_service
from lotline.lots.schemas import NewLot
from lotline.models import (
    Item,
    Location,
    Lot,
    WorkOrder,
    WorkOrderExecution,
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


class _WorkOrder(NamedTuple):
    id: uuid.UUID
    number: str
    item_id: uuid.UUID
    status: str


# (the work order by id or by number: {match} is "o.id = %(wo)s::uuid" or "o.number = %(wo)s::text")
_LOCK_WORK_ORDER = "SELECT o.id, o.number, o.item_id, o.status FROM work_orders o WHERE {match} FOR UPDATE"
_WORK_ORDER_ITEM = "SELECT {columns} FROM items i WHERE i.id = (SELECT o.item_id FROM work_orders o WHERE {match})"
_MATCH = {True: pgsql.SQL("o.id = %(wo)s::uuid"), False: pgsql.SQL("o.number = %(wo)s::text")}
_ITEM_COLUMNS = pgsql.SQL(", ").join(pgsql.Identifier("i", c.name) for c in Item.__table__.columns)


def _execution_reads(
    session: Session, work_order_ref: str | uuid.UUID, wanted: dict
) -> tuple[_WorkOrder, dict]:
    """The work order locked FOR UPDATE, its item and the records ``wanted`` names (``refs.lookups``),
    in one pipeline (find_work_order + refs.resolve_all waited twice); NotFound for an unknown work
    order. Inside a batch (``catalog.remember_records``) the catalog's memo answers for the records."""
    wo_id = catalog.as_uuid(work_order_ref)
    match = _MATCH[wo_id is not None]
    params = {"wo": wo_id if wo_id is not None else str(work_order_ref)}
    kinds = [] if catalog.remembers_records(session) else [m for m, r in wanted.items() if r]
    session.flush()  # (as the ORM's autoflush would)
    with sql.pipelined_many(session, [
        (pgsql.SQL(_LOCK_WORK_ORDER).format(match=match), params),
        (pgsql.SQL(_WORK_ORDER_ITEM).format(columns=_ITEM_COLUMNS, match=match), params),
        *refs.lookups({m: wanted[m] for m in kinds}),
    ], kind="dict") as (wo_rows, item_rows, *fetches):
        rows, wo_item, kind_rows = wo_rows(), item_rows(), [fetch() for fetch in fetches]
    if not rows:
        raise NotFound(f"unknown work order {str(work_order_ref)!r}", kind="work_order", ref=str(work_order_ref))
    wo = _WorkOrder(**rows[0])
    found: dict = {"work order item": catalog.records(session, Item, wo_item)[0]}
    found |= {m: catalog.records(session, m, r) for m, r in zip(kinds, kind_rows, strict=True)}
    for m in wanted:
        if m not in found:  # (the batch's memo: matched() resolves them through the catalog)
            found[m] = []
    return wo, found


def execute(session: Session, work_order_ref: str | uuid.UUID, data: ExecutionIn) -> Executed:
    """Post one execution of an open work order (consume + produce + lot links + genealogy)."""
    if data.external_ref:
        found = inventory.claim_external_ref(session, data.external_ref, kind="execution")
        if found is not None:
            existing = session.get_one(WorkOrderExecution, found[0])
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
    wanted: dict = {
        Item: list(dict.fromkeys([x.item for x in data.consume] + [x.item for x in data.produce if x.item])),
        Location: list(dict.fromkeys([x.location for x in data.consume] + [x.location for x in data.produce])),
    }
    wo, read = _execution_reads(session, work_order_ref, wanted)
    if wo.status != "open":
        raise InvalidStateTransition(
            f"work order {wo.number} is {wo.status}; only open work orders can be executed"
        )
    occurred_at = data.occurred_at or utcnow()
    records = refs.matched(session, {m: r for m, r in wanted.items() if r}, read, context="execution")
    records.setdefault(Item, {})[wo.item_id] = read["work order item"]
    items, locations = records[Item], records.get(Location, {})

    consumed, premade = _consume(session, wo, data, items, locations, occurred_at) if data.consume else (None, {})

    lines = []
    for out in data.produce:
        item, location = items[out.item or wo.item_id], locations[out.location]
        lots = []
        if item.lot_tracked:
            known = premade.get((item.id, out.lot_code)) or inventory.known_lot(session, item, out.lot_code)
            if known is not None:
                lot = known
            else:
                # created unless it exists (a top-up): one statement for a new lot
                lot, created = lots_service.output_lot(
                    session,
                    item,
                    NewLot(
                        lot_code=out.lot_code,
                        manufactured_at=occurred_at,
                        expires_at=out.expires_at,
                        notes=out.notes,
                    ),
                )
                if created:
                    inventory.lot_created(session, lot)
            lots = [inventory.LotDelta(lot, out.quantity)]
        lines.append(inventory.Line(item, location, out.quantity, lots))
    execution = WorkOrderExecution(
        id=uuid.uuid4(),
        work_order_id=wo.id,
        occurred_at=occurred_at,
        consume_movement_id=consumed.movement.id if consumed else None,
        external_ref=data.external_ref,
        notes=data.notes,
    )

    def links(produced: inventory.Posted) -> list[tuple[str, dict]]:
        execution.produce_movement_id = produced.movement.id
        return [(sql.load_sql("lotline.production", "insert_execution"), _execution_params(execution, consumed, produced))]

    # the execution, its lot links and genealogy go out in the produce movement's pipeline
    produced = inventory.post_movement(
        session, "production_produce", occurred_at, lines, notes=wo.number, then=links
    )
    make_transient_to_detached(execution)
    session.add(execution)
    return Executed(execution, consumed, produced)


def _consume(
    session: Session, wo: _WorkOrder, data: ExecutionIn, items: dict, locations: dict, occurred_at: datetime
) -> tuple[inventory.Posted, dict[tuple, Lot]]:
    """The execution's consumption, posted; and the output lots made (or read) with it, by (item id, code)."""
    premade: dict[tuple, Lot] = {}
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
    # New output lots are inserted in the consume movement's pipeline (one wait fewer), built
    # once its rules have passed — as before, after the consumption's checks, before the produce.
    outputs = _new_outputs(session, data, items, wo.item_id)
    wanted_lots: list[tuple[Item, NewLot]] = []
    folded: list[Lot] = []

    def output_lots(_posted: inventory.Posted) -> list[tuple[str, dict]]:
        if not outputs:
            return []
        wanted_lots.extend(
            (item, NewLot(lot_code=x.lot_code, manufactured_at=occurred_at, expires_at=x.expires_at, notes=x.notes))
            for _, item, x in outputs
        )
        statement, lots = lots_service.output_lots_insert(wanted_lots)
        folded.extend(lots)
        return [statement]

    consumed = inventory.post_movement(
        session, "production_consume", occurred_at, lines, notes=wo.number, locked=stock,
        then=output_lots, then_rows=bool(outputs),
    )
    if outputs:
        inserted = {r[0] for r in consumed.then_rows}
        made = lots_service.output_lots_inserted(session, wanted_lots, folded, inserted)
        for (key, _, _), (lot, created) in zip(outputs, made, strict=True):
            if created:
                inventory.lot_created(session, lot)
            premade[key] = lot
    return consumed, premade


def _new_outputs(session: Session, data: ExecutionIn, items: dict, wo_item_id: uuid.UUID) -> list[tuple[tuple, Item, Any]]:
    """The produce lines whose lots this transaction does not know: ((item id, code), item, line);
    none when two lines name one lot (the first makes it, the second tops it up: the per-line path)."""
    out = []
    for x in data.produce:
        item = items[x.item or wo_item_id]
        if item.lot_tracked and inventory.known_lot(session, item, x.lot_code) is None:
            out.append(((item.id, x.lot_code), item, x))
    return out if len({k for k, _, _ in out}) == len(out) else []


def _execution_params(
    execution: WorkOrderExecution,
    consumed: inventory.Posted | None,
    produced: inventory.Posted,
) -> dict:
    """Parameters of ``insert_execution.sql``: a link per lot row, an edge per (consumed, produced) lot."""
    consume_rows = [r for rows in consumed.lot_rows for r in rows] if consumed else []
    produce_rows = [r for rows in produced.lot_rows for r in rows]
    links = [(r.id, "consume") for r in consume_rows] + [(r.id, "produce") for r in produce_rows]
    used: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    made: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for r in consume_rows:
        used[r.lot_id] += -r.quantity_delta
    for r in produce_rows:
        made[r.lot_id] += r.quantity_delta
    edges = [(parent, child) for parent in used for child in made]
    return {
        "id": execution.id,
        "work_order_id": execution.work_order_id,
        "occurred_at": execution.occurred_at,
        "consume_movement_id": execution.consume_movement_id,
        "produce_movement_id": execution.produce_movement_id,
        "external_ref": execution.external_ref,
        "notes": execution.notes,
        "link_ids": [uuid.uuid4() for _ in links],
        "link_rows": [x[0] for x in links],
        "link_roles": [x[1] for x in links],
        "parents": [p for p, _ in edges],
        "children": [c for _, c in edges],
        "consumed": [used[p] for p, _ in edges],
        "produced": [made[c] for _, c in edges],
    }


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
