"""The bulk chunk poster's planner: each mapped EPCIS event turned into the rows the posting
services would write (lots, movements with lines and lot rows, work orders and executions, sales
orders and shipments), without a query — or ``NotBulk`` when the event is not one the bulk path
takes (see ``lotline.epcis.bulk`` for the rules and the writer that sends these rows).
"""


from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from lotline.catalog import service as catalog
from lotline.epcis import identifiers as ids
from lotline.epcis.document import external_ref
from lotline.epcis.mapping import EXT, Mapper
from lotline.epcis.masterdata import Rec
from lotline.epcis.reading import Outcome, _short
from lotline.epcis.units import to_stocking
from lotline.epcis.vocab import _date_or_time, _ilmd_value, _last_segment, cbv, parse_time
from lotline.inventory.schemas import ReceiptIn
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.sales.schemas import SalesOrderIn, ShipmentIn
from lotline.types import utcnow

LotKey = tuple[uuid.UUID, str]  # (item id, lot code)
Key = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # balance row: item, location, lot


def new_id() -> uuid.UUID:
    """A new row id, time-ordered (the UUIDv7 layout: milliseconds since the epoch, then 74 random
    bits): the rows a bulk chunk writes land at the right-hand end of the id indexes (their own
    and audit_log's (table_name, record_id)) instead of at random pages of ever larger indexes."""
    rand = int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(int=(time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64
                     | 0b10 << 62 | rand & ((1 << 62) - 1))


class NotBulk(Exception):
    """This chunk goes the per-event way (the reason is for debugging only, never shown)."""


@dataclass
class LotRow:
    id: uuid.UUID
    line_id: uuid.UUID
    lot: LotKey
    quantity: Decimal
    lot_id: uuid.UUID | None = None


@dataclass
class Line:
    id: uuid.UUID
    line_no: int
    item: Rec
    location: Rec
    quantity: Decimal
    rows: list[LotRow] = field(default_factory=list)


@dataclass
class Movement:
    id: uuid.UUID
    type: str
    at: datetime
    external_ref: str | None
    notes: str | None
    vendor_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    lines: list[Line] = field(default_factory=list)


@dataclass
class NewLot:
    id: uuid.UUID
    item: Rec
    code: str
    manufactured_at: datetime | None
    received_at: datetime | None
    expires_at: datetime | None  # as given; the item's shelf life fills it in later
    vendor_lot_code: str | None


@dataclass
class Event:
    seq: int
    key: str
    event: dict
    at: datetime
    outcome: Outcome
    movements: list[Movement] = field(default_factory=list)
    new_lots: list[NewLot] = field(default_factory=list)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (kind, external ref)
    work_order: dict | None = None
    execution: dict | None = None
    order: dict | None = None
    shipment: dict | None = None


def movement(type_: str, at: datetime, *, ref: str | None = None, notes: str | None = None,
              vendor: uuid.UUID | None = None, customer: uuid.UUID | None = None) -> Movement:
    return Movement(new_id(), type_, at, ref, notes, vendor, customer)


def add_line(m: Movement, item: Rec, location: Rec, quantity: Decimal, lot: LotKey) -> Line:
    line = Line(new_id(), len(m.lines) + 1, item, location, quantity)
    line.rows.append(LotRow(new_id(), line.id, lot, quantity))
    m.lines.append(line)
    return line


class Planner:
    """Turns each event into the rows the services would write, or raises NotBulk (no query)."""

    def __init__(self, mapper: Mapper):
        self.mapper = mapper
        self.registry = mapper.registry

    # --- pieces, from what the job resolved before ------------------------------------------

    # Identifiers are resolved through the job's registry as the services resolve them: a record that
    # exists is found (and cached; journaled, as it may be this savepoint's); one that does not
    # raises NotFound (the chunk goes the per-event way, which phrases the refusal), or, when the job
    # creates master data, is created — inside the chunk's savepoint, journaled by the registry, so a
    # chunk that goes the per-event way after all leaves no record behind (``post_chunk``). The
    # services would create the same records: the registry's calls depend on the identifier, the
    # document's vocabulary and the first quantity naming it, in document order, never on the path.

    @staticmethod
    def _by_code(rec: Rec) -> Rec:
        # the services resolve a reference that reads as a UUID by id first: such codes go per event
        if catalog.as_uuid(rec.code) is not None:
            raise NotBulk("a code that reads as a UUID")
        return rec

    def _item(self, raw: Any, uom_code: Any) -> Rec:
        return self._by_code(self.registry.known_item(raw)
                             or self.registry.item(raw, ids.parse_class(raw), uom_code=uom_code, where=""))

    def _location(self, raw: Any) -> Rec:
        return self._by_code(self.registry.known_location(raw) or self.registry.location(raw, where=""))

    def _place(self, event: dict) -> Rec:
        point = event.get("bizLocation") or event.get("readPoint")
        if not isinstance(point, dict):
            raise NotBulk("no place")
        return self._location(point.get("id"))

    def _party(self, event: dict, member: str, role: str) -> Rec:
        key = member.removesuffix("List")
        for wanted in ("owning_party", "possessing_party"):
            for e in event.get(member) or []:
                if cbv(e.get("type")) == wanted:
                    return self._by_code(self.registry.known_party(e.get(key), role)
                                         or self.registry.party(e[key], role, where=""))
        raise NotBulk(f"no {role}")

    def _lots(self, event: dict, member: str, where: str) -> list[tuple[Rec, str, Decimal]]:
        """(item, lot code, quantity in the stocking unit) per element; every element names a lot."""
        epc_member = {"quantityList": "epcList", "inputQuantityList": "inputEPCList",
                      "outputQuantityList": "outputEPCList"}[member]
        if event.get(epc_member):
            raise NotBulk("instance-level EPCs")
        out = []
        for n, q in enumerate(event.get(member) or []):
            raw = q.get("epcClass")
            ref = ids.parse_class(raw)
            if ref.serial is not None or ref.lot is None or "quantity" not in q:
                raise NotBulk("not a lot quantity")
            item = self._item(raw, q.get("uom"))
            if not item.lot_tracked:
                raise NotBulk("an untracked item")
            qty = to_stocking(Decimal(str(q["quantity"])), q.get("uom"), item_uom=item.uom, sku=item.code,
                              where=f"{where}: {member}[{n}]")
            if qty <= 0:
                raise NotBulk("quantity")
            out.append((item, ref.lot, qty))
        return out

    @staticmethod
    def _same(given: Any, validated: Any) -> None:
        if given != validated:
            raise NotBulk("a schema would change a value")

    @staticmethod
    def _expiry(ilmd: dict) -> datetime | None:
        return _date_or_time(ilmd.get(EXT + "expiresAt"), "expiresAt") or _date_or_time(
            _ilmd_value(ilmd, "cbvmda:itemExpirationDate", "cbvmda:bestBeforeDate", "cbvmda:sellByDate"), "expiry date"
        )

    # --- the rule table, for what the bulk path takes ----------------------------------------

    def plan(self, seq: int, key: str, event: dict, where: str) -> Event:
        etype = event.get("type")
        at = parse_time(event["eventTime"])
        if "errorDeclaration" in event:
            raise NotBulk("error declaration")
        if etype not in ("ObjectEvent", "TransformationEvent", "TransactionEvent"):
            return Event(seq, key, event, at, self.mapper.apply(event, key, where))  # stored; no query
        if at > utcnow():
            raise NotBulk("future")
        step, disp = cbv(event.get("bizStep")), cbv(event.get("disposition"))
        if self.mapper.wanted_status(event, step, disp, releasing=False) is not None:
            raise NotBulk("a lot status to set")
        if etype == "TransformationEvent":
            return self.transformation(seq, key, event, at, where)
        if etype == "ObjectEvent" and (step == "receiving" and disp != "returned"
                                       or step == "commissioning" and event.get("sourceList")):
            return self.receipt(seq, key, event, at, where)
        if etype == "ObjectEvent" and step == "shipping":
            return self.shipment(seq, key, event, at, where)
        raise NotBulk(f"{etype} {step}")

    def receipt(self, seq: int, key: str, event: dict, at: datetime, where: str) -> Event:
        vendor = self._party(event, "sourceList", "vendor")
        location = self._place(event)
        qs = self._lots(event, "quantityList", where)
        if not qs:
            raise NotBulk("nothing received")
        ilmd = event.get("ilmd") or {}
        expires = self._expiry(ilmd)
        made = _date_or_time(ilmd.get(EXT + "manufacturedAt"), "manufacturedAt") or _date_or_time(
            _ilmd_value(ilmd, "cbvmda:productionDate", "cbvmda:manufacturingDate"), "production date"
        )
        ref = external_ref(key)
        data = ReceiptIn(vendor=vendor.code, occurred_at=at, external_ref=ref, notes=f"EPCIS {where}", lines=[
            {"item": item.code, "location": location.code, "quantity": qty,
             "lots": [{"lot_code": code, "quantity": qty, "expires_at": expires, "manufactured_at": made,
                       "vendor_lot_code": ilmd.get(EXT + "vendorLotCode")}]}
            for item, code, qty in qs
        ])
        self._same(ref, data.external_ref)
        m = movement("receipt", at, ref=ref, notes=data.notes, vendor=vendor.id)
        ev = Event(seq, key, event, at, Outcome("posted", "receipt", effects={"movements": [str(m.id)]}))
        for (item, code, qty), ln in zip(qs, data.lines, strict=True):
            lot_in = ln.lots[0]
            self._same((code, qty, location.code, item.code), (lot_in.lot_code, ln.quantity, ln.location, ln.item))
            ev.new_lots.append(NewLot(new_id(), item, code, lot_in.manufactured_at, at, lot_in.expires_at,
                                       lot_in.vendor_lot_code))
            add_line(m, item, location, ln.quantity, (item.id, code))
        ev.movements.append(m)
        ev.refs.append(("movement", ref))
        return ev

    def shipment(self, seq: int, key: str, event: dict, at: datetime, where: str) -> Event:
        customer = self._party(event, "destinationList", "customer")
        location = self._place(event)
        qs = self._lots(event, "quantityList", where)
        if not qs:
            raise NotBulk("nothing shipped")
        number = self.mapper.order_number(event, "po", key) or f"EPCIS-{_short(key)}"
        totals: dict[str, Decimal] = {}
        for item, _code, qty in qs:
            totals[item.code] = totals.get(item.code, Decimal(0)) + qty
        order_in = SalesOrderIn(number=number, customer=customer.code, ordered_at=at, notes=f"created for EPCIS {where}",
                                lines=[{"item": sku, "quantity": qty, "due_date": at.date()} for sku, qty in totals.items()])
        self._same((number, list(totals.values())), (order_in.number, [x.quantity for x in order_in.lines]))
        line_no = {sku: n for n, sku in enumerate(totals, start=1)}
        ref = external_ref(key)
        ship_in = ShipmentIn(shipped_at=at, external_ref=ref, lines=[
            {"line_no": line_no[item.code], "location": location.code, "quantity": qty,
             "lots": [{"lot": code, "quantity": qty}]} for item, code, qty in qs
        ])
        self._same(ref, ship_in.external_ref)
        order_id = new_id()
        order_lines = [(new_id(), n, self._item_of(qs, sku), ln) for n, (sku, ln) in
                       enumerate(zip(totals, order_in.lines, strict=True), start=1)]
        m = movement("shipment", at, notes=number, customer=customer.id)
        shipment_id = new_id()
        for (item, code, _qty), ln in zip(qs, ship_in.lines, strict=True):
            if ln.lots is None:
                raise NotBulk("lots")
            self._same((code, location.code), (ln.lots[0].lot, ln.location))
            add_line(m, item, location, -ln.quantity, (item.id, code))
        ev = Event(seq, key, event, at, Outcome(
            "posted", "shipment", message=f"order {number} (created)",
            effects={"movements": [str(m.id)], "shipment": str(shipment_id), "customer": customer.code,
                     "location": location.code}))
        ev.movements.append(m)
        ev.refs.append(("shipment", ref))
        ev.order = {"id": order_id, "number": number, "customer_id": customer.id, "ordered_at": order_in.ordered_at,
                    "notes": order_in.notes, "lines": order_lines}
        ev.shipment = {"id": shipment_id, "ref": ref, "customer_id": customer.id,
                       "order_lines": [order_lines[ln.line_no - 1][0] for ln in ship_in.lines],
                       "quantities": [ln.quantity for ln in ship_in.lines]}
        return ev

    @staticmethod
    def _item_of(qs: list[tuple[Rec, str, Decimal]], sku: str) -> Rec:
        return next(item for item, _c, _q in qs if item.code == sku)

    def transformation(self, seq: int, key: str, event: dict, at: datetime, where: str) -> Event:
        ins = self._lots(event, "inputQuantityList", where)
        outs = self._lots(event, "outputQuantityList", where)
        if not outs:
            raise NotBulk("no outputs")
        in_locs = event.get(EXT + "inputLocations") or []
        out_locs = event.get(EXT + "outputLocations") or []

        def loc(locs: list, n: int) -> Rec:
            return self._location(locs[n]) if n < len(locs) else self._place(event)

        number = self.mapper.order_number(event, "prodorder", key)
        if number is None and event.get("transformationID"):
            number = _last_segment(event["transformationID"])[:64]
        number = number or f"EPCIS-{_short(key)}"
        first = outs[0][0]
        wo_in = WorkOrderIn(number=number, item=first.code, notes=f"created for EPCIS {where}",
                            planned_quantity=sum(q for item, _c, q in outs if item.id == first.id))
        self._same(number, wo_in.number)
        expires = self._expiry(event.get("ilmd") or {})
        expiries = event.get(EXT + "outputExpiresAt") or []
        ref = external_ref(key)
        ex_in = ExecutionIn(occurred_at=at, external_ref=ref, consume=[
            {"item": item.code, "location": loc(in_locs, n).code, "quantity": q, "lots": [{"lot": code, "quantity": q}]}
            for n, (item, code, q) in enumerate(ins)
        ], produce=[
            {"item": item.code, "location": loc(out_locs, n).code, "quantity": q, "lot_code": code,
             "expires_at": _date_or_time(expiries[n], "expiry") if n < len(expiries) and expiries[n] else expires}
            for n, (item, code, q) in enumerate(outs)
        ])
        self._same(ref, ex_in.external_ref)
        wo_id, ex_id = new_id(), new_id()
        ev = Event(seq, key, event, at, Outcome("posted", "execution", message=f"work order {number}",
                                                 effects={"execution": str(ex_id)}))
        consume = None
        if ins:
            consume = movement("production_consume", at, notes=number)
            for n, ((item, code, _q), ln) in enumerate(zip(ins, ex_in.consume, strict=True)):
                place = loc(in_locs, n)
                if ln.lots is None:
                    raise NotBulk("lots")
                self._same((code, place.code), (ln.lots[0].lot, ln.location))
                add_line(consume, item, place, -ln.quantity, (item.id, code))
            ev.movements.append(consume)
        produce = movement("production_produce", at, notes=number)
        codes = set()
        for n, ((item, code, _q), out) in enumerate(zip(outs, ex_in.produce, strict=True)):
            place = loc(out_locs, n)
            self._same((code, place.code), (out.lot_code, out.location))
            if (item.id, code) in codes:
                raise NotBulk("an output lot twice")
            codes.add((item.id, code))
            ev.new_lots.append(NewLot(new_id(), item, code, at, None, out.expires_at, None))
            add_line(produce, item, place, out.quantity, (item.id, code))
        ev.movements.append(produce)
        ev.refs.append(("execution", ref))
        ev.work_order = {"id": wo_id, "number": number, "item": first, "planned": wo_in.planned_quantity,
                         "notes": wo_in.notes}
        ev.execution = {"id": ex_id, "ref": ref, "consume": consume, "produce": produce}
        return ev
