"""EPCIS error declarations: undoing what a captured event posted.

An event carrying ``errorDeclaration`` names (by its eventID) an event captured before; what that event
posted is undone through the services: movements are reversed (``inventory.reverse``), a shipment is
answered by a return of the same lots from the customer to the location they left, lot status changes
are put back, an order created for it is canceled when nothing shipped on it. A work order execution is
refused: production is never undone in lotline. The declared event is marked (``declared_at``), so a
second declaration undoes nothing more.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.epcis.document import external_ref
from lotline.epcis.reading import EventReader, Outcome
from lotline.epcis.vocab import cbv, parse_time
from lotline.errors import InvalidStateTransition, NotFound
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReturnIn, ReversalIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.models import Location, Lot, SalesOrder
from lotline.sales import service as sales
from lotline.types import utcnow


def declare(mapper: EventReader, event: dict, key: str, where: str) -> Outcome:
    """Undo what the declared event posted (see the mapping module doc); refuses executions."""
    session = mapper.session
    row = session.execute(
        sa.text("SELECT id, effects, declared_at, mapping FROM epcis_events WHERE event_key = :k FOR UPDATE"),
        {"k": key},
    ).first()
    if row is None:
        raise NotFound(f"{where}: declares an error in event {key}, which lotline has not captured", kind="event", ref=key)
    if row.declared_at is not None:
        return Outcome("stored", "declaration", "error already declared; nothing more to undo")
    decl = event["errorDeclaration"]
    when = min(parse_time(decl["declarationTime"]), utcnow())
    reason = f"EPCIS error declaration ({cbv(decl.get('reason')) or 'no reason given'}) of {key}"[:10_000]
    if row.mapping == "execution":
        raise InvalidStateTransition(
            f"{where}: event {key} posted a work order execution, which lotline cannot undo; "
            "send corrective events (a return, an adjustment) instead"
        )
    effects = row.effects or {}
    undone = []
    for change in reversed(effects.get("status", [])):
        lot = session.get_one(Lot, uuid.UUID(change["lot"]))
        lots_service.change_status(session, lot, LotStatusChange(status=change["from"], reason=reason))
        undone.append(f"lot {lot.lot_code} back to {change['from']}")
    for mid in effects.get("movements", []):
        if row.mapping == "shipment":
            undone.append(_return_shipment(session, uuid.UUID(mid), when, reason, key))
        else:
            inventory.reverse(session, uuid.UUID(mid), ReversalIn(reason=reason, occurred_at=when))
            undone.append(f"movement {mid} reversed")
    if effects.get("order"):
        order = session.get(SalesOrder, uuid.UUID(effects["order"]))
        if order is not None and order.status == "open" and not sales.order_lines(session, order)[0]["shipped"]:
            order.status = "canceled"
            undone.append(f"sales order {order.number} canceled")
    session.execute(sa.text("UPDATE epcis_events SET declared_at = now() WHERE id = :id"), {"id": row.id})
    return Outcome("posted", "declaration", "; ".join(undone) or "nothing to undo", effects={"declared": key})

def _return_shipment(session: Session, movement_id, when, reason, key) -> str:
    detail = inventory.get_movement(session, movement_id)
    lines = []
    for line, rows in zip(detail.lines, detail.lot_rows, strict=True):
        lines.append({"item": str(line.item_id), "location": str(line.location_id), "quantity": -line.quantity_delta,
                      "lots": [{"lot": str(r.lot_id), "quantity": -r.quantity_delta} for r in rows]})
    # return lines name the location by code
    codes = {x.id: x.code for x in session.scalars(sa.select(Location).where(
        Location.id.in_([ln.location_id for ln in detail.lines])))}
    for ln, spec in zip(detail.lines, lines, strict=True):
        spec["location"] = codes[ln.location_id]
    p = inventory.return_goods(session, ReturnIn(customer=str(detail.movement.customer_id), occurred_at=when,
                                                      external_ref=external_ref(key, "#declaration"), notes=reason,
                                                      lines=lines))
    return f"shipment returned (movement {p.movement.id})"
