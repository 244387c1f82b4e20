"""What lotline does with each EPCIS event: the mapping to postings, through the ordinary services.

Every posting goes through the inventory / production / sales / lots services with their lot rules, so an
event that would break a rule is refused with the same error (the capture job adds the event's index and
eventID). The rules, in the order they are tried:

- ``errorDeclaration`` (any type): reverses what the declared event (same eventID, captured before) posted:
  receipts, transfers, adjustments, scraps and returns are reversed (``movement reverse``); a shipment is
  answered by a return of the same lots from the customer to the shipping location; lot status changes are
  put back; a transformation is refused (production is never undone in lotline — send corrective events).
- ObjectEvent, bizStep ``receiving`` (or ``commissioning`` with a source party) → a receipt from the vendor
  named by the sourceList (``owning_party``, else ``possessing_party``) into bizLocation (else readPoint),
  one line per quantity element, each LGTIN creating its lot with ILMD: ``itemExpirationDate`` (else
  ``bestBeforeDate``, else ``sellByDate``) → expiry, ``productionDate``/``manufacturingDate`` → manufactured,
  lotline's ``lotline:expiresAt``/``lotline:vendorLotCode`` when present. Dates are midnight UTC.
  With disposition ``returned`` the event is a customer return (sourceList party = the customer) instead.
- ObjectEvent, bizStep ``shipping`` → a shipment from bizLocation to the customer named by the
  destinationList (``owning_party``, else ``possessing_party``). Its sales order: the bizTransaction ``po``
  (its last ``:``/``/`` segment is the order number; ``urn:lotline:so:N`` exactly N). An order that exists
  is shipped against (lines of the item, in line order, with open quantity); one that does not is created
  for the shipment (one line per item, due on the event's date). Such a created order holds that shipment
  only: a later shipment of the same po gets its own order ``<po>/2``, ``<po>/3``... (send the order as a
  TransactionEvent first, as lotline's exports do, to ship several times against one order). Without a ``po``, the order is
  ``EPCIS-<first 12 hex of the event key's SHA-256>``, created.
- ObjectEvent, bizStep ``destroying`` → scrap at bizLocation (one scrap movement per item).
- ObjectEvent with a sourceList and a destinationList of type ``location`` (lotline exports use bizStep
  ``storing``) → a transfer per item.
- ObjectEvent, bizStep ``cycle_counting``/``stock_taking``, ADD or DELETE → a count adjustment (+ / −).
- TransformationEvent → an execution of a work order (bizTransaction ``prodorder``, else the
  transformationID, else ``EPCIS-<hash>``; created for the first output's item when missing): inputs are
  consumed, outputs produced into lots (ILMD gives their expiry), genealogy written by the production
  service. Locations: lotline's ``lotline:inputLocations``/``lotline:outputLocations`` (one per quantity
  element), else bizLocation, else readPoint.
- TransactionEvent ADD with a ``po`` and a quantityList of items, to a customer (destinationList party) →
  a sales order (lotline exports use it to carry orders: ``lotline:dueDates`` per element).
- Dispositions (after any posting above, on every lot of the event): ``recalled`` → blocked, ``damaged`` →
  blocked, ``expired`` → expired, bizStep ``holding`` or ``non_sellable_other``/``sellable_not_accessible``
  → quarantine, and on an event that posts nothing, ``active``/``sellable_accessible``/``available`` →
  active; ``persistentDisposition.set`` maps the same way. lotline's ``lotline:lotStatus`` wins when present.
- Everything else is kept, counted and queryable, never dropped: ``stored`` (AggregationEvent,
  AssociationEvent, TransactionEvent without an order, extension event types, bizSteps with no lotline
  meaning) or ``skipped`` (instance-level EPCs — SGTIN serials — that name no lot; lotline tracks lots).
  Instance-level EPCs beside lot quantities are counted in the result message.

Quantities: a quantity element without ``quantity`` is refused (lotline posts quantities); ``uom`` is a
UN/ECE Rec 20 code converted to the item's stocking unit (``units``). An item class without a lot
(``urn:epc:idpat:sgtin:….*`` / Digital Link without ``/10/``) means: the untracked item itself, or for a
lot-tracked item being shipped / consumed / scrapped, lots allocated first-expiry-first-out.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.epcis import identifiers as ids
from lotline.epcis.document import external_ref
from lotline.epcis.masterdata import Rec, Registry
from lotline.epcis.units import to_stocking
from lotline.epcis.vocab import (
    RELEASING,
    STATUS_OF_DISPOSITION,
    _date_or_time,
    _ilmd_value,
    _last_segment,
    cbv,
    parse_time,
)
from lotline.errors import InvalidInput, NotFound
from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ReturnIn, ScrapIn, TransferIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.models import Lot, SalesOrder, WorkOrder
from lotline.production import service as production
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.sales import service as sales
from lotline.sales.schemas import SalesOrderIn, ShipmentIn

LOTLINE = "urn:lotline:epcis:"
# JSON-LD context entry lotline adds to documents it writes; its extension members use this prefix.
CONTEXT_PREFIX = "lotline"
EXT = CONTEXT_PREFIX + ":"



@dataclass
class Outcome:
    outcome: str  # posted | stored | skipped
    mapping: str
    message: str = ""
    effects: dict[str, Any] = field(default_factory=dict)
    lot_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass
class Qty:
    raw: str
    ref: ids.ClassRef
    item: Rec
    quantity: Decimal | None  # None only where no quantity is posted (a status change)


def _lot_ids(*posted) -> list[uuid.UUID]:
    """Lots a posting touched, from its own lot rows (no query)."""
    return list(dict.fromkeys(r.lot_id for p in posted if p is not None for rows in p.lot_rows for r in rows))


def _short(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


class Mapper:
    """Applies one event at a time inside the caller's session (see module doc)."""

    def __init__(self, registry: Registry):
        self.registry = registry

    @property
    def session(self) -> Session:
        return self.registry.session

    # --- pieces --------------------------------------------------------------------------------

    def quantities(self, event: dict, member: str, where: str, *, need: bool = True) -> tuple[list[Qty], int]:
        out = []
        for n, q in enumerate(event.get(member) or []):
            raw = q["epcClass"]
            ref = ids.parse_class(raw)
            if ref.serial is not None:
                raise InvalidInput(f"{where}: {member}[{n}] {raw!r} names one instance, not a class", identifier=raw)
            item = self.registry.item(raw, ref, uom_code=q.get("uom"), where=where)
            if "quantity" not in q:
                if need:
                    raise InvalidInput(f"{where}: {member}[{n}] ({raw}) has no quantity; lotline posts quantities")
                out.append(Qty(raw, ref, item, None))
                continue
            qty = to_stocking(Decimal(str(q["quantity"])), q.get("uom"), item_uom=item.uom, sku=item.code,
                              where=f"{where}: {member}[{n}]")
            if qty <= 0:
                raise InvalidInput(f"{where}: {member}[{n}] ({raw}) quantity must be positive, got {q['quantity']}")
            if ref.lot is not None and not item.lot_tracked:
                raise InvalidInput(f"{where}: {raw!r} names a lot of {item.code}, which is not lot-tracked")
            out.append(Qty(raw, ref, item, qty))
        epc_member = {"quantityList": "epcList", "inputQuantityList": "inputEPCList",
                      "outputQuantityList": "outputEPCList"}.get(member)
        instances = len(event.get(epc_member) or []) if epc_member else 0
        return out, instances

    def place(self, event: dict, where: str) -> Rec:
        point = event.get("bizLocation") or event.get("readPoint")
        if not point:
            raise InvalidInput(f"{where}: needs a bizLocation (or readPoint) naming the lotline location")
        return self.registry.location(point["id"], where=where)

    def party(self, event: dict, member: str, role: str, where: str) -> Rec:
        entries = event.get(member) or []
        key = member.removesuffix("List")
        for wanted in ("owning_party", "possessing_party"):
            for e in entries:
                if cbv(e.get("type")) == wanted:
                    return self.registry.party(e[key], role, where=where)
        raise InvalidInput(f"{where}: needs a {member} owning_party (or possessing_party) naming the {role}")

    def locations_of(self, event: dict, member: str, kind: str) -> list[str]:
        key = member.removesuffix("List")
        return [e[key] for e in event.get(member) or [] if cbv(e.get("type")) == kind]

    def lot(self, q: Qty, where: str) -> Lot:
        lot = self.session.scalar(sa.select(Lot).where(Lot.item_id == q.item.id, Lot.lot_code == q.ref.lot))
        if lot is None:
            raise NotFound(f"{where}: unknown lot {q.ref.lot!r} of item {q.item.code}", kind="lot", ref=q.ref.lot)
        return lot

    @staticmethod
    def lots_spec(qs: list[Qty]) -> list[dict] | None:
        if any(q.ref.lot is None for q in qs):
            return None  # FEFO
        return [{"lot": q.ref.lot, "quantity": q.quantity} for q in qs]

    @staticmethod
    def by_item(qs: list[Qty]) -> dict[uuid.UUID, list[Qty]]:
        out: dict[uuid.UUID, list[Qty]] = {}
        for q in qs:
            out.setdefault(q.item.id, []).append(q)
        return out

    def lot_ids_of(self, qs: list[Qty]) -> list[uuid.UUID]:
        found = []
        for q in qs:
            if q.ref.lot is not None and q.item.lot_tracked:
                lot_id = self.session.scalar(sa.select(Lot.id).where(Lot.item_id == q.item.id, Lot.lot_code == q.ref.lot))
                if lot_id:
                    found.append(lot_id)
        return found

    # --- the event -----------------------------------------------------------------------------

    def apply(self, event: dict, key: str, where: str) -> Outcome:
        etype = event["type"]
        at = parse_time(event["eventTime"])
        if "errorDeclaration" in event:
            return self.declaration(event, key, where)
        if etype == "ObjectEvent":
            return self.object_event(event, key, at, where)
        if etype == "TransformationEvent":
            return self.transformation(event, key, at, where)
        if etype == "TransactionEvent":
            return self.transaction_event(event, key, at, where)
        if etype in ("AggregationEvent", "AssociationEvent"):
            return Outcome("stored", "none", f"{etype}: packing hierarchies have no lotline posting; stored")
        return Outcome("stored", "none", f"extension event type {etype!r}; stored")

    def object_event(self, event: dict, key: str, at: datetime, where: str) -> Outcome:
        step, disp, action = cbv(event.get("bizStep")), cbv(event.get("disposition")), event.get("action")
        qs, instances = self.quantities(event, "quantityList", where, need=False)
        if step in ("receiving", "shipping", "destroying", "commissioning", "cycle_counting", "stock_taking") or (
            self.locations_of(event, "sourceList", "location") and self.locations_of(event, "destinationList", "location")
        ):
            for n, q in enumerate(qs):
                if q.quantity is None:
                    raise InvalidInput(f"{where}: quantityList[{n}] ({q.raw}) has no quantity; lotline posts quantities")
        note = f"; {instances} instance-level EPC(s) without a lot not tracked" if instances else ""
        ilmd = event.get("ilmd") or {}
        if not qs:
            if instances:
                return Outcome("skipped", "none", f"{instances} instance-level EPC(s) without a lot; lotline tracks lots")
            return self.status_only(event, [], where, step, disp, note)
        ref = external_ref(key)
        posted: Outcome | None = None
        if step == "receiving" and disp == "returned":
            posted = self.customer_return(event, qs, key, at, where)
        elif step == "receiving" or (step == "commissioning" and event.get("sourceList")):
            posted = self.receipt(event, qs, ilmd, ref, at, where)
        elif step == "shipping":
            posted = self.shipment(event, qs, key, at, where)
        elif step == "destroying":
            location = self.place(event, where)
            moves = []
            for n, group in enumerate(self.by_item(qs).values()):
                p = inventory.scrap(self.session, ScrapIn(
                    item=group[0].item.code, location=location.code, quantity=sum(q.quantity for q in group),
                    lots=self.lots_spec(group), occurred_at=at, external_ref=external_ref(key, f"#{n}" if n else ""),
                    notes=f"EPCIS destroying {key}"[:10_000],
                ))
                moves.append(str(p.movement.id))
            posted = Outcome("posted", "scrap", effects={"movements": moves})
        elif self.locations_of(event, "sourceList", "location") and self.locations_of(event, "destinationList", "location"):
            src = self.registry.location(self.locations_of(event, "sourceList", "location")[0], where=where)
            dst = self.registry.location(self.locations_of(event, "destinationList", "location")[0], where=where)
            moves = []
            for n, group in enumerate(self.by_item(qs).values()):
                p = inventory.transfer(self.session, TransferIn(
                    item=group[0].item.code, from_location=src.code, to_location=dst.code,
                    quantity=sum(q.quantity for q in group), lots=self.lots_spec(group), occurred_at=at,
                    external_ref=external_ref(key, f"#{n}" if n else ""),
                ))
                moves.append(str(p.movement.id))
            posted = Outcome("posted", "transfer", effects={"movements": moves})
        elif step in ("cycle_counting", "stock_taking") and action in ("ADD", "DELETE"):
            location = self.place(event, where)
            sign = 1 if action == "ADD" else -1
            if any(q.ref.lot is None and q.item.lot_tracked for q in qs):
                raise InvalidInput(f"{where}: a count adjustment of a lot-tracked item must name its lots")
            p = inventory.adjust(self.session, AdjustmentIn(
                reason=f"EPCIS {step} {key}", occurred_at=at, external_ref=ref,
                lines=[{"item": q.item.code, "location": location.code, "quantity": sign * q.quantity,
                        "lots": [{"lot": q.ref.lot, "quantity": sign * q.quantity}] if q.ref.lot is not None else []}
                       for q in qs],
            ))
            posted = Outcome("posted", "adjustment", effects={"movements": [str(p.movement.id)]})
        status = self.status_only(event, qs, where, step, disp, note, after=posted)
        return status

    def status_only(self, event, qs, where, step, disp, note, *, after: Outcome | None = None) -> Outcome:
        """Apply the event's disposition to its lots; the outcome of the posting (if any) with the changes."""
        wanted = self.wanted_status(event, step, disp, releasing=after is None)
        out = after or Outcome("stored", "none", f"bizStep {step or '(none)'} has no lotline posting; stored")
        if wanted and qs:
            changes = []
            for q in qs:
                if q.ref.lot is None:
                    continue
                lot = self.lot(q, where)
                before = lot.status
                lots_service.change_status(self.session, lot, LotStatusChange(status=wanted, reason=f"EPCIS {where}"))
                if before != wanted:
                    changes.append({"lot": str(lot.id), "from": before, "to": wanted})
            out.effects.setdefault("status", []).extend(changes)
            if after is None:
                out.outcome, out.mapping = "posted", "status"
                out.message = f"lot status {wanted} ({len(changes)} changed)"
        if not out.lot_ids:
            out.lot_ids = self.lot_ids_of(qs)
        out.message += note
        return out

    @staticmethod
    def wanted_status(event: dict, step: Any, disp: Any, *, releasing: bool) -> str | None:
        explicit = event.get(EXT + "lotStatus")
        if explicit:
            if explicit not in ("active", "quarantine", "blocked", "consumed", "expired"):
                raise InvalidInput(f"{EXT}lotStatus {explicit!r} is not a lotline lot status")
            return explicit
        for d in [disp, *[cbv(x) for x in (event.get("persistentDisposition") or {}).get("set", [])]]:
            if d in STATUS_OF_DISPOSITION:
                return STATUS_OF_DISPOSITION[d]
        if step == "holding":
            return "quarantine"
        if releasing and disp in RELEASING and step not in ("receiving", "shipping", "commissioning"):
            return "active"
        return None

    # --- postings ------------------------------------------------------------------------------

    def receipt(self, event, qs, ilmd, ref, at, where) -> Outcome:
        vendor = self.party(event, "sourceList", "vendor", where)
        location = self.place(event, where)
        expires = _date_or_time(ilmd.get(EXT + "expiresAt"), "expiresAt") or _date_or_time(
            _ilmd_value(ilmd, "cbvmda:itemExpirationDate", "cbvmda:bestBeforeDate", "cbvmda:sellByDate"), "expiry date"
        )
        made = _date_or_time(ilmd.get(EXT + "manufacturedAt"), "manufacturedAt") or _date_or_time(
            _ilmd_value(ilmd, "cbvmda:productionDate", "cbvmda:manufacturingDate"), "production date"
        )
        vendor_lot = ilmd.get(EXT + "vendorLotCode")
        lines = []
        for q in qs:
            if q.item.lot_tracked and q.ref.lot is None:
                raise InvalidInput(f"{where}: receiving {q.raw!r}: item {q.item.code} is lot-tracked; name the lot (LGTIN)")
            lots = [{"lot_code": q.ref.lot, "quantity": q.quantity, "expires_at": expires, "manufactured_at": made,
                     "vendor_lot_code": vendor_lot}] if q.item.lot_tracked else []
            lines.append({"item": q.item.code, "location": location.code, "quantity": q.quantity, "lots": lots})
        p = inventory.receive(self.session, ReceiptIn(vendor=vendor.code, occurred_at=at, external_ref=ref, lines=lines,
                                                      notes=f"EPCIS {where}"))
        return Outcome("posted", "receipt", effects={"movements": [str(p.movement.id)]}, lot_ids=_lot_ids(p),
                       message="" if not p.replayed else "receipt already posted under this reference")

    def customer_return(self, event, qs, key, at, where) -> Outcome:
        customer = self.party(event, "sourceList", "customer", where)
        location = self.place(event, where)
        p = inventory.return_goods(self.session, ReturnIn(
            customer=customer.code, occurred_at=at, external_ref=external_ref(key), notes=f"EPCIS {where}",
            lines=[{"item": q.item.code, "location": location.code, "quantity": q.quantity,
                    "lots": [{"lot": q.ref.lot, "quantity": q.quantity}] if q.ref.lot is not None else []} for q in qs],
        ))
        return Outcome("posted", "return", effects={"movements": [str(p.movement.id)]})

    def order_number(self, event: dict, kind: str, key: str) -> str | None:
        for bt in event.get("bizTransactionList") or []:
            if cbv(bt.get("type")) == kind:
                number = _last_segment(bt["bizTransaction"])
                if len(number) > 64:
                    raise InvalidInput(f"{kind} {bt['bizTransaction']!r}: order number {number[:20]}... is over 64 characters")
                return number
        return None

    def shipment(self, event, qs, key, at, where) -> Outcome:
        customer = self.party(event, "destinationList", "customer", where)
        location = self.place(event, where)
        number = self.order_number(event, "po", key) or f"EPCIS-{_short(key)}"
        order = self.session.scalar(sa.select(SalesOrder).where(SalesOrder.number == number))
        base, n = number, 1
        # An order lotline created for an earlier shipment of this po holds exactly that shipment; a later
        # shipment of the same po gets an order of its own, numbered <po>/2, <po>/3, ...
        while order is not None and order.status == "closed" and (order.notes or "").startswith("created for EPCIS"):
            n += 1
            number = f"{base}/{n}"
            order = self.session.scalar(sa.select(SalesOrder).where(SalesOrder.number == number))
        created = False
        if order is None:
            totals: dict[str, Decimal] = {}
            for q in qs:
                totals[q.item.code] = totals.get(q.item.code, Decimal(0)) + q.quantity
            order = sales.create_order(self.session, SalesOrderIn(
                number=number, customer=customer.code, ordered_at=at, notes=f"created for EPCIS {where}",
                lines=[{"item": sku, "quantity": qty, "due_date": at.date()} for sku, qty in totals.items()],
            ))
            created = True
        elif order.customer_id != customer.id:
            raise InvalidInput(f"{where}: sales order {number} belongs to another customer than {customer.code}")
        open_lines = [x for x in sales.order_lines(self.session, order)]
        remaining = {x["line"].line_no: x["open"] for x in open_lines}
        ship_lines = []
        for q in qs:
            candidates = [x["line"].line_no for x in open_lines if x["line"].item_id == q.item.id]
            if not candidates:
                raise InvalidInput(f"{where}: sales order {number} has no line for item {q.item.code}")
            left = q.quantity
            for no in candidates:
                take = min(left, remaining[no]) if no != candidates[-1] else left
                if take <= 0:
                    continue
                remaining[no] -= take
                lots = [{"lot": q.ref.lot, "quantity": take}] if q.ref.lot is not None else None
                ship_lines.append({"line_no": no, "location": location.code, "quantity": take, "lots": lots})
                left -= take
                if left == 0:
                    break
        shipped = sales.ship(self.session, order.id, ShipmentIn(shipped_at=at, external_ref=external_ref(key), lines=ship_lines))
        return Outcome("posted", "shipment", message=f"order {number}{' (created)' if created else ''}",
                       lot_ids=_lot_ids(shipped.posted),
                       effects={"movements": [str(shipped.posted.movement.id)], "shipment": str(shipped.shipment.id),
                                "customer": customer.code, "location": location.code})

    def transformation(self, event, key, at, where) -> Outcome:
        ins, in_instances = self.quantities(event, "inputQuantityList", where)
        outs, out_instances = self.quantities(event, "outputQuantityList", where)
        if not outs:
            what = f"{out_instances} instance-level output EPC(s)" if out_instances else "no outputs"
            return Outcome("skipped" if out_instances else "stored", "none",
                           f"transformation with {what}: lotline needs output lots (outputQuantityList); not posted")
        in_locs = event.get(EXT + "inputLocations") or []
        out_locs = event.get(EXT + "outputLocations") or []
        default_loc = None

        def loc(locs, n):
            nonlocal default_loc
            if n < len(locs):
                return self.registry.location(locs[n], where=where).code
            if default_loc is None:
                default_loc = self.place(event, where).code
            return default_loc

        number = self.order_number(event, "prodorder", key)
        if number is None and event.get("transformationID"):
            number = _last_segment(event["transformationID"])[:64]
        number = number or f"EPCIS-{_short(key)}"
        wo_id = self.session.scalar(sa.select(WorkOrder.id).where(WorkOrder.number == number))
        if wo_id is None:
            wo_id = production.create_work_order(self.session, WorkOrderIn(
                number=number, item=outs[0].item.code,
                planned_quantity=sum(q.quantity for q in outs if q.item.id == outs[0].item.id),
                notes=f"created for EPCIS {where}",
            )).id
        ilmd = event.get("ilmd") or {}
        expires = _date_or_time(ilmd.get(EXT + "expiresAt"), "expiresAt") or _date_or_time(
            _ilmd_value(ilmd, "cbvmda:itemExpirationDate", "cbvmda:bestBeforeDate", "cbvmda:sellByDate"), "expiry date"
        )
        consume = []
        for n, q in enumerate(ins):
            consume.append({"item": q.item.code, "location": loc(in_locs, n), "quantity": q.quantity,
                            "lots": [{"lot": q.ref.lot, "quantity": q.quantity}] if q.ref.lot is not None else None})
        expiries = event.get(EXT + "outputExpiresAt") or []
        produce = []
        for n, q in enumerate(outs):
            if q.item.lot_tracked and q.ref.lot is None:
                raise InvalidInput(f"{where}: output {q.raw!r}: item {q.item.code} is lot-tracked; name the lot (LGTIN)")
            produce.append({"item": q.item.code, "location": loc(out_locs, n), "quantity": q.quantity,
                            "lot_code": q.ref.lot or "-",
                            "expires_at": _date_or_time(expiries[n], "expiry") if n < len(expiries) and expiries[n] else expires})
        # by id: a number taken from a transformationID may look like a UUID
        done = production.execute(self.session, wo_id, ExecutionIn(occurred_at=at, external_ref=external_ref(key),
                                                                    consume=consume, produce=produce))
        note = ""
        if in_instances or out_instances:
            note = f"; {in_instances + out_instances} instance-level EPC(s) without a lot not tracked"
        out = Outcome("posted", "execution", message=f"work order {number}{note}",
                      effects={"execution": str(done.execution.id)})
        out.lot_ids = _lot_ids(done.consumed, done.produced)
        step, disp = cbv(event.get("bizStep")), cbv(event.get("disposition"))
        wanted = self.wanted_status(event, step, disp, releasing=False)
        if wanted:
            self.status_only(event, outs, where, step, disp, "", after=out)
        return out

    def transaction_event(self, event, key, at, where) -> Outcome:
        number = self.order_number(event, "po", key)
        if event.get("action") != "ADD" or number is None or not event.get("quantityList") or not event.get("destinationList"):
            return Outcome("stored", "none", "TransactionEvent: business transaction noted; stored")
        if self.session.scalar(sa.select(SalesOrder.id).where(SalesOrder.number == number)) is not None:
            return Outcome("stored", "none", f"sales order {number} already exists; stored")
        if any(ids.parse_class(q["epcClass"]).lot is not None for q in event["quantityList"]):
            return Outcome("stored", "none", "TransactionEvent naming lots, not ordered items; stored")
        customer = self.party(event, "destinationList", "customer", where)
        qs, _ = self.quantities(event, "quantityList", where)
        due = event.get(EXT + "dueDates") or []
        lines = []
        for n, q in enumerate(qs):
            due_date = date.fromisoformat(due[n]) if n < len(due) else at.date()
            lines.append({"item": q.item.code, "quantity": q.quantity, "due_date": due_date})
        order = sales.create_order(self.session, SalesOrderIn(number=number, customer=customer.code, ordered_at=at, lines=lines))
        return Outcome("posted", "order", message=f"sales order {number}", effects={"order": str(order.id)})

    def declaration(self, event: dict, key: str, where: str) -> Outcome:
        from lotline.epcis.declarations import declare

        return declare(self, event, key, where)
