"""Read-side queries over the ledger for people: movements with codes instead of ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.db import pages
from lotline.errors import NotFound
from lotline.models import (
    Customer,
    InventoryMovement,
    InventoryMovementLine,
    InventoryMovementLot,
    Item,
    Location,
    Lot,
    Vendor,
)


def movement_detail(session: Session, movement_id: uuid.UUID) -> dict:
    """A movement with its lines and lot rows, naming items, locations and lots by code."""
    movement = session.get(InventoryMovement, movement_id)
    if movement is None:
        raise NotFound(f"unknown movement {movement_id}", kind="movement", ref=str(movement_id))
    rows = session.execute(
        sa.select(
            InventoryMovementLine.line_no,
            Item.sku,
            Location.code.label("location"),
            InventoryMovementLine.quantity_delta.label("line_quantity"),
            InventoryMovementLine.uom,
            Lot.lot_code,
            InventoryMovementLot.quantity_delta.label("lot_quantity"),
            InventoryMovementLot.lot_id,
        )
        .join(Item, Item.id == InventoryMovementLine.item_id)
        .join(Location, Location.id == InventoryMovementLine.location_id)
        .outerjoin(InventoryMovementLot, InventoryMovementLot.inventory_movement_line_id == InventoryMovementLine.id)
        .outerjoin(Lot, Lot.id == InventoryMovementLot.lot_id)
        .where(InventoryMovementLine.movement_id == movement_id)
        .order_by(InventoryMovementLine.line_no, Lot.lot_code)
    ).all()
    party = None
    if movement.vendor_id:
        party = session.scalar(sa.select(Vendor.code).where(Vendor.id == movement.vendor_id))
    elif movement.customer_id:
        party = session.scalar(sa.select(Customer.code).where(Customer.id == movement.customer_id))
    return {
        "id": movement.id,
        "movement_type": movement.movement_type,
        "status": movement.status,
        "occurred_at": movement.occurred_at,
        "external_ref": movement.external_ref,
        "party": party,
        "reverses_movement_id": movement.reverses_movement_id,
        "notes": movement.notes,
        "lines": [dict(r._mapping) for r in rows],
    }


def list_movements(session: Session, *, limit: int = 100, movement_type: str | None = None) -> list[dict]:
    query = _movements_query(movement_type).order_by(InventoryMovement.occurred_at.desc(), InventoryMovement.id)
    return [dict(r._mapping) for r in session.execute(query.limit(limit))]


def movements_page(
    session: Session, *, movement_type: str | None = None, after: Sequence[str] | None, limit: int
) -> pages.Page:
    """One page of movements, newest first (by time, then id)."""
    got = pages.page(session, _movements_query(movement_type), [InventoryMovement.occurred_at, InventoryMovement.id],
                     lambda r: (r.occurred_at, r.id), after=after, limit=limit, descending=True)
    return pages.Page([dict(r._mapping) for r in got.rows], got.after)


def _movements_query(movement_type: str | None) -> sa.Select:
    counts = (
        sa.select(InventoryMovementLine.movement_id, sa.func.count().label("lines"))
        .group_by(InventoryMovementLine.movement_id)
        .subquery()
    )
    query = (
        sa.select(
            InventoryMovement.id,
            InventoryMovement.movement_type,
            InventoryMovement.status,
            InventoryMovement.occurred_at,
            InventoryMovement.external_ref,
            counts.c.lines,
        )
        .join(counts, counts.c.movement_id == InventoryMovement.id)
    )
    if movement_type:
        query = query.where(InventoryMovement.movement_type == movement_type)
    return query


HISTORY_COLUMNS = ("occurred_at", "movement_type", "movement_id", "external_ref", "line_no", "location",
                   "quantity_delta", "uom", "running_total")


def _lot_history(lot_id: uuid.UUID):
    """The lot's movement lines with their running total, and the columns of their order (a subquery)."""
    order = (InventoryMovement.occurred_at, InventoryMovement.created_at, InventoryMovementLine.line_no,
             InventoryMovementLot.id)
    return (
        sa.select(
            InventoryMovement.occurred_at,
            InventoryMovement.movement_type,
            InventoryMovement.id.label("movement_id"),
            InventoryMovement.external_ref,
            InventoryMovementLine.line_no,
            Location.code.label("location"),
            InventoryMovementLot.quantity_delta,
            InventoryMovementLot.uom,
            sa.func.sum(InventoryMovementLot.quantity_delta).over(order_by=order).label("running_total"),
            InventoryMovement.created_at.label("recorded_at"),
            InventoryMovementLot.id.label("lot_row_id"),
        )
        .join(InventoryMovementLine, InventoryMovementLine.id == InventoryMovementLot.inventory_movement_line_id)
        .join(InventoryMovement, InventoryMovement.id == InventoryMovementLine.movement_id)
        .join(Location, Location.id == InventoryMovementLine.location_id)
        .where(InventoryMovementLot.lot_id == lot_id)
        .subquery("history")
    )


def lot_history(session: Session, lot_id: uuid.UUID) -> list[dict]:
    """Every movement of one lot in time order, with the lot's running total across locations."""
    h = _lot_history(lot_id)
    rows = session.execute(
        sa.select(*[h.c[name] for name in HISTORY_COLUMNS])
        .order_by(h.c.occurred_at, h.c.recorded_at, h.c.line_no, h.c.lot_row_id)
    )
    return [dict(r._mapping) for r in rows]


def lot_history_page(session: Session, lot_id: uuid.UUID, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of ``lot_history`` (rows with its columns); the running total is the lot's whole
    history's, whatever the page (it is computed before the page is cut)."""
    h = _lot_history(lot_id)
    keys = [h.c.occurred_at, h.c.recorded_at, h.c.line_no, h.c.lot_row_id]
    page = pages.page(session, sa.select(h), keys, lambda r: (r.occurred_at, r.recorded_at, r.line_no, r.lot_row_id),
                      after=after, limit=limit)
    return pages.Page([{name: r._mapping[name] for name in HISTORY_COLUMNS} for r in page.rows], page.after)
