# Over 600 lines: the planner (event -> rows) and the writer (rows -> statements) share the row types.
"""The set-based chunk poster: a chunk of mapped EPCIS events written in a few statements per table.

``capture`` hands every chunk here first. ``post_chunk`` either writes the whole chunk set-based —
lots, work orders, sales orders and their lines, movements with lines and lot rows, balances,
executions with lot links and genealogy, shipments with lines, lot links and ``lot_shipments``, the
orders' closing and fill state: one statement per group of tables — or returns ``None`` having
written nothing, and the chunk goes the per-event way (``capture._apply_chunk_at_once``), through
the posting services, which produce each refusal with its exact error.

The bulk path only has to *detect*, conservatively, that a chunk might not post exactly as the
services would post it event by event; it never phrases an error. It takes a chunk only when every
event is one of:
- ObjectEvent ``receiving`` (not ``returned``) or ``commissioning`` with a sourceList → a receipt,
  every quantity naming a new lot (LGTIN) of a lot-tracked item;
- ObjectEvent ``shipping`` → a shipment on a sales order created for it, every quantity naming a lot;
- TransformationEvent → an execution of a work order created for it, inputs naming lots, outputs
  naming new lots;
- an event type with no lotline posting (AggregationEvent, AssociationEvent, extension types) →
  stored, as ``Mapper.apply`` says;
and, for the chunk as a whole (one read per rule, never a query per event):
- no error declaration, no event captured before or twice in the chunk, no lot status to set
  (disposition, ``persistentDisposition``, ``lotline:lotStatus``, bizStep ``holding``), no
  instance-level EPC, no event time in the future;
- every identifier names a record that exists, or one the job creates (``create_master_data``):
  created in the chunk's savepoint, as the services would create it (see ``_Planner``);
- every input schema (``ReceiptIn``, ``SalesOrderIn``, ``ShipmentIn``, ``WorkOrderIn``,
  ``ExecutionIn``) accepts the event's posting unchanged (no stripped code, no out-of-range value);
- no order number, work order number or external reference already taken (in the database or by
  an earlier event of the chunk), no new lot code already taken;
- every lot shipped or consumed exists — in the database, or made by an earlier event of the
  chunk — is active and unexpired at the event's time;
- stock, per (item, location, lot), replayed in document order from the locked balance rows: never
  below zero after any posting, and every posting that takes from a key at or after that key's
  latest ledger time (a back-dated take, or a row whose time is unknown, goes the per-event way,
  which reads the later ledger).
A database error while writing rolls the chunk's savepoint back, and the chunk goes the per-event
way too. So the bulk path accepts a chunk only when the services would accept every event of it,
and then writes what they would write (proved by ``tests/epcis/test_bulk_equivalence.py``: the same
documents captured both ways give equal ledgers, audit trails and capture reports).

Locks: the balance rows it changes (FOR UPDATE, global order), then the lots it takes from (FOR
SHARE, id order), as the posting services take them; the chunk's external references by advisory
lock, as ``inventory.claim_external_ref`` does.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.db import sql
from lotline.epcis import identifiers as ids
from lotline.epcis.document import external_ref
from lotline.epcis.mapping import EXT, Mapper
from lotline.epcis.masterdata import Rec
from lotline.epcis.reading import Outcome, _short
from lotline.epcis.units import to_stocking
from lotline.epcis.vocab import _date_or_time, _ilmd_value, _last_segment, cbv, parse_time
from lotline.errors import LotlineError
from lotline.inventory.schemas import ReceiptIn
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.sales import service as sales
from lotline.sales.schemas import SalesOrderIn, ShipmentIn
from lotline.types import utcnow

PKG = "lotline.epcis"
LotKey = tuple[uuid.UUID, str]  # (item id, lot code)
Key = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # balance row: item, location, lot


def new_id() -> uuid.UUID:
    """A new row id, time-ordered (the UUIDv7 layout: milliseconds since the epoch, then 74 random
    bits): the rows a bulk chunk writes land at the right-hand end of the id indexes (their own
    and audit_log's (table_name, record_id)) instead of at random pages of ever larger indexes."""
    rand = int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(int=(time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64
                     | 0b10 << 62 | rand & ((1 << 62) - 1))


# every array parameter is bound as one literal (the SQL casts each): psycopg's element-by-element
# dumping of the chunk's long uuid/text arrays cost more than the statements (bench/RESULTS.md, session 7)
_arrays = sql.with_array_literals


class NotBulk(Exception):
    """This chunk goes the per-event way (the reason is for debugging only, never shown)."""


@dataclass
class _LotRow:
    id: uuid.UUID
    line_id: uuid.UUID
    lot: LotKey
    quantity: Decimal
    lot_id: uuid.UUID | None = None


@dataclass
class _Line:
    id: uuid.UUID
    line_no: int
    item: Rec
    location: Rec
    quantity: Decimal
    rows: list[_LotRow] = field(default_factory=list)


@dataclass
class _Movement:
    id: uuid.UUID
    type: str
    at: datetime
    external_ref: str | None
    notes: str | None
    vendor_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    lines: list[_Line] = field(default_factory=list)


@dataclass
class _NewLot:
    id: uuid.UUID
    item: Rec
    code: str
    manufactured_at: datetime | None
    received_at: datetime | None
    expires_at: datetime | None  # as given; the item's shelf life fills it in later
    vendor_lot_code: str | None


@dataclass
class _Event:
    seq: int
    key: str
    event: dict
    at: datetime
    outcome: Outcome
    movements: list[_Movement] = field(default_factory=list)
    new_lots: list[_NewLot] = field(default_factory=list)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (kind, external ref)
    work_order: dict | None = None
    execution: dict | None = None
    order: dict | None = None
    shipment: dict | None = None


def _movement(type_: str, at: datetime, *, ref: str | None = None, notes: str | None = None,
              vendor: uuid.UUID | None = None, customer: uuid.UUID | None = None) -> _Movement:
    return _Movement(new_id(), type_, at, ref, notes, vendor, customer)


def _add_line(m: _Movement, item: Rec, location: Rec, quantity: Decimal, lot: LotKey) -> _Line:
    line = _Line(new_id(), len(m.lines) + 1, item, location, quantity)
    line.rows.append(_LotRow(new_id(), line.id, lot, quantity))
    m.lines.append(line)
    return line


class _Planner:
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

    def plan(self, seq: int, key: str, event: dict, where: str) -> _Event:
        etype = event.get("type")
        at = parse_time(event["eventTime"])
        if "errorDeclaration" in event:
            raise NotBulk("error declaration")
        if etype not in ("ObjectEvent", "TransformationEvent", "TransactionEvent"):
            return _Event(seq, key, event, at, self.mapper.apply(event, key, where))  # stored; no query
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

    def receipt(self, seq: int, key: str, event: dict, at: datetime, where: str) -> _Event:
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
        m = _movement("receipt", at, ref=ref, notes=data.notes, vendor=vendor.id)
        ev = _Event(seq, key, event, at, Outcome("posted", "receipt", effects={"movements": [str(m.id)]}))
        for (item, code, qty), ln in zip(qs, data.lines, strict=True):
            lot_in = ln.lots[0]
            self._same((code, qty, location.code, item.code), (lot_in.lot_code, ln.quantity, ln.location, ln.item))
            ev.new_lots.append(_NewLot(new_id(), item, code, lot_in.manufactured_at, at, lot_in.expires_at,
                                       lot_in.vendor_lot_code))
            _add_line(m, item, location, ln.quantity, (item.id, code))
        ev.movements.append(m)
        ev.refs.append(("movement", ref))
        return ev

    def shipment(self, seq: int, key: str, event: dict, at: datetime, where: str) -> _Event:
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
        m = _movement("shipment", at, notes=number, customer=customer.id)
        shipment_id = new_id()
        for (item, code, _qty), ln in zip(qs, ship_in.lines, strict=True):
            if ln.lots is None:
                raise NotBulk("lots")
            self._same((code, location.code), (ln.lots[0].lot, ln.location))
            _add_line(m, item, location, -ln.quantity, (item.id, code))
        ev = _Event(seq, key, event, at, Outcome(
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

    def transformation(self, seq: int, key: str, event: dict, at: datetime, where: str) -> _Event:
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
        ev = _Event(seq, key, event, at, Outcome("posted", "execution", message=f"work order {number}",
                                                 effects={"execution": str(ex_id)}))
        consume = None
        if ins:
            consume = _movement("production_consume", at, notes=number)
            for n, ((item, code, _q), ln) in enumerate(zip(ins, ex_in.consume, strict=True)):
                place = loc(in_locs, n)
                if ln.lots is None:
                    raise NotBulk("lots")
                self._same((code, place.code), (ln.lots[0].lot, ln.location))
                _add_line(consume, item, place, -ln.quantity, (item.id, code))
            ev.movements.append(consume)
        produce = _movement("production_produce", at, notes=number)
        codes = set()
        for n, ((item, code, _q), out) in enumerate(zip(outs, ex_in.produce, strict=True)):
            place = loc(out_locs, n)
            self._same((code, place.code), (out.lot_code, out.location))
            if (item.id, code) in codes:
                raise NotBulk("an output lot twice")
            codes.add((item.id, code))
            ev.new_lots.append(_NewLot(new_id(), item, code, at, None, out.expires_at, None))
            _add_line(produce, item, place, out.quantity, (item.id, code))
        ev.movements.append(produce)
        ev.refs.append(("execution", ref))
        ev.work_order = {"id": wo_id, "number": number, "item": first, "planned": wo_in.planned_quantity,
                         "notes": wo_in.notes}
        ev.execution = {"id": ex_id, "ref": ref, "consume": consume, "produce": produce}
        return ev


# --- the chunk: reads, checks, writes ---------------------------------------------------------------------


def plan_ahead(chunk: list[dict], keys: list[str], first: int, mapper: Mapper, labels: list[str]) -> list[_Event] | None:
    """The chunk's plan made without the database (while the previous chunk's writes run), or None.

    The registry is unbound meanwhile, so planning can use only records the job resolved before:
    anything that would need a query (an identifier not met yet, master data to create) or that
    the bulk path does not take gives None, and the chunk is planned again in its own savepoint
    (``post_chunk``), as without a plan. Planning reads nothing else that changes: the same events
    give the same plan (but for new ids) whenever it is made — an event in the future now is
    planned again later. Valid only if the chunk before it was written (``post_chunk`` did not give
    up, which would make the registry forget records), as ``capture`` uses it.
    """
    planner = _Planner(mapper)
    registry = mapper.registry
    session, registry.session = registry.session, None
    try:
        return [planner.plan(first + n, key, event, labels[n]) for n, (event, key) in enumerate(zip(chunk, keys, strict=True))]
    except (NotBulk, LotlineError, ValidationError, ValueError, KeyError, TypeError, AttributeError, RuntimeError):
        return None
    finally:
        registry.session = session


def post_chunk(
    s: Session, chunk: list[dict], keys: list[str], first: int, mapper: Mapper, labels: list[str], *,
    planned: list[_Event] | None = None, meanwhile: Callable[[], object] | None = None,
) -> list[tuple[_Event, Outcome]] | None:
    """Write the chunk set-based and return each event with its outcome, or None having written nothing.

    ``planned``: the chunk's ``plan_ahead``, used instead of planning it again. ``meanwhile``: called
    while the chunk's writes run on the server (``sql.execute_all``), only if the chunk is written.
    """
    planner = _Planner(mapper)
    # master data the planning creates (a job with create_master_data) is written in this savepoint
    # too: the chunk going the per-event way rolls it back and the registry forgets it
    mark = mapper.registry.mark()
    savepoint = s.begin_nested()

    def give_up() -> None:
        savepoint.rollback()
        mapper.registry.forget_since(mark)

    try:
        events = planned if planned is not None else [
            planner.plan(first + n, key, event, labels[n]) for n, (event, key) in enumerate(zip(chunk, keys, strict=True))]
    except (NotBulk, LotlineError, ValidationError, ValueError, KeyError, TypeError, AttributeError, sa.exc.DBAPIError):
        give_up()
        return None
    try:
        if not _check_and_write(s, events, meanwhile):
            give_up()
            return None
        s.flush()
    except sa.exc.DBAPIError:
        give_up()
        return None
    savepoint.commit()
    return [(ev, ev.outcome) for ev in events]


def _check_and_write(s: Session, events: list[_Event], meanwhile: Callable[[], object] | None) -> bool:  # noqa: C901 — the chunk's rules in one pass, in the module doc's order
    refs = [r for ev in events for r in ev.refs]
    numbers = [ev.order["number"] for ev in events if ev.order] + [ev.work_order["number"] for ev in events if ev.work_order]
    new_lots = [lot for ev in events for lot in ev.new_lots]
    if len(set(refs)) != len(refs) or len(set(numbers)) != len(numbers):
        return False
    if len({(x.item.id, x.code) for x in new_lots}) != len(new_lots):
        return False
    taken_lots = {row.lot for ev in events for m in ev.movements for ln in m.lines for row in ln.rows if row.quantity < 0}
    made = {(x.item.id, x.code): x for x in new_lots}
    wanted = sorted(k for k in taken_lots if k not in made)
    items = sorted({x.item.id for x in new_lots})
    # the chunk's first reads in one round trip (a pipeline runs them in this order): the references'
    # locks, then what is taken (seen under those locks), lots taken from by code (codes never
    # change), the new lots' items' shelf lives
    reads: dict[str, tuple[str, dict]] = {}
    if refs:
        reads["locks"] = (sql.load_sql(PKG, "bulk_lock_refs"), _arrays({"keys": sorted({f"{k}:{r}" for k, r in refs})}))
    reads["taken"] = (sql.load_sql(PKG, "bulk_taken"), _arrays({
        "refs": [r for _k, r in refs], "orders": [ev.order["number"] for ev in events if ev.order],
        "work_orders": [ev.work_order["number"] for ev in events if ev.work_order],
        "items": [x.item.id for x in new_lots], "codes": [x.code for x in new_lots],
    }))
    if wanted:
        reads["lots"] = (sql.load_sql(PKG, "bulk_find_lots"),
                         _arrays({"items": [k[0] for k in wanted], "codes": [k[1] for k in wanted]}))
    if items:
        reads["shelf"] = (sql.load_sql(PKG, "bulk_shelf_lives"), _arrays({"ids": items}))
    got = _read_all(s, reads)
    if got["taken"][0][0]:
        return False
    existing: dict[LotKey, uuid.UUID] = {(r.item_id, r.lot_code): r.id for r in got.get("lots", [])}
    shelf = {r.id: r.shelf_life_days for r in got.get("shelf", []) if r.shelf_life_days}
    lot_id = {**{k: x.id for k, x in made.items()}, **existing}
    made_by: dict[LotKey, int] = {(x.item.id, x.code): ev.seq for ev in events for x in ev.new_lots}
    for ev in events:
        for m in ev.movements:
            for ln in m.lines:
                for row in ln.rows:
                    if row.lot not in lot_id:
                        return False  # an unknown lot: refused per event
                    if row.lot in made_by and made_by[row.lot] > ev.seq or (made_by.get(row.lot) == ev.seq and row.quantity < 0):
                        return False  # taken before (or by the event) that makes it
                    row.lot_id = lot_id[row.lot]
    old = set(existing.values())
    keys = sorted({(ln.item.id, ln.location.id, row.lot_id) for ev in events for m in ev.movements for ln in m.lines
                   for row in ln.rows if row.lot_id in old})
    # then the rows changed, FOR UPDATE, and the lots taken from, FOR SHARE: one round trip, in that order
    locks: dict[str, tuple[str, dict]] = {}
    if keys:
        locks["balances"] = (sql.load_sql(PKG, "bulk_lock_balances"), _arrays({
            "items": [k[0] for k in keys], "locations": [k[1] for k in keys], "lots": [k[2] for k in keys],
        }))
    if existing:
        locks["lots"] = (sql.load_sql(PKG, "bulk_share_lots"), _arrays({"ids": sorted(existing.values())}))
    locked = _read_all(s, locks)
    rows: dict[Key, tuple[Decimal, datetime | None]] = {
        (r.item_id, r.location_id, r.lot_id): (r.quantity, r.last_occurred_at) for r in locked.get("balances", [])
    }
    states: dict[uuid.UUID, tuple[str, datetime | None]] = {r.id: (r.status, r.expires_at) for r in locked.get("lots", [])}
    for x in new_lots:
        base = x.manufactured_at or x.received_at
        if x.expires_at is None and shelf.get(x.item.id) and base is not None:
            x.expires_at = base + timedelta(days=shelf[x.item.id])
        states[x.id] = ("active", x.expires_at)
    initial = dict(rows)
    if not _stock_holds(events, rows, states):
        return False
    _write(s, events, new_lots, initial, rows, meanwhile)
    return True


def _read_all(s: Session, reads: dict[str, tuple[str, dict]]) -> dict[str, list[Any]]:
    """Each named read's rows, the reads sent in one pipeline (run in order, one round trip)."""
    if not reads:
        return {}
    with sql.pipelined_many(s, list(reads.values()), kind="named") as fetchers:
        return {name: fetch() for name, fetch in zip(reads, fetchers, strict=True)}


def _stock_holds(events: list[_Event], rows: dict[Key, tuple[Decimal, datetime | None]],
                 states: dict[uuid.UUID, tuple[str, datetime | None]]) -> bool:
    """Replay the chunk's postings in document order over the locked rows (``rows`` ends as written)."""
    for ev in events:
        for m in ev.movements:
            net: dict[Key, Decimal] = defaultdict(Decimal)
            for ln in m.lines:
                for row in ln.rows:
                    assert row.lot_id is not None
                    if row.quantity < 0:  # shipped or consumed: active, not expired at the time
                        status, expires = states[row.lot_id]
                        if status != "active" or (expires is not None and expires <= m.at):
                            return False
                    net[(ln.item.id, ln.location.id, row.lot_id)] += row.quantity
            for key, delta in net.items():
                have = rows.get(key)
                if delta < 0 and (have is None or have[0] + delta < 0 or have[1] is None or have[1] > m.at):
                    return False  # short, or back-dated / unknown time: the per-event way reads the ledger
                if have is None:
                    rows[key] = (delta, m.at)
                else:
                    rows[key] = (have[0] + delta, None if have[1] is None else max(have[1], m.at))
    return True


def _write(s: Session, events: list[_Event], new_lots: list[_NewLot], initial: dict, final: dict,
           meanwhile: Callable[[], object] | None = None) -> None:
    """The chunk's rows, one statement per group of tables (FK order), sent in one pipeline."""
    out: list[tuple[str, dict]] = []
    if new_lots:
        out.append((sql.load_sql(PKG, "bulk_insert_lots"), {
            "ids": [x.id for x in new_lots], "items": [x.item.id for x in new_lots], "codes": [x.code for x in new_lots],
            "manufactured": [x.manufactured_at for x in new_lots], "received": [x.received_at for x in new_lots],
            "expires": [x.expires_at for x in new_lots], "vendor_lots": [x.vendor_lot_code for x in new_lots],
        }))
    wos = [ev.work_order for ev in events if ev.work_order]
    if wos:
        out.append((sql.load_sql(PKG, "bulk_insert_work_orders"), {
            "ids": [w["id"] for w in wos], "numbers": [w["number"] for w in wos], "items": [w["item"].id for w in wos],
            "planned": [w["planned"] for w in wos], "uoms": [w["item"].uom for w in wos], "notes": [w["notes"] for w in wos],
        }))
    orders = [ev.order for ev in events if ev.order]
    if orders:
        lines = [(o["id"], *ln) for o in orders for ln in o["lines"]]
        out.append((sql.load_sql(PKG, "bulk_insert_orders"), {
            "ids": [o["id"] for o in orders], "numbers": [o["number"] for o in orders],
            "customers": [o["customer_id"] for o in orders], "ordered": [o["ordered_at"] for o in orders],
            "notes": [o["notes"] for o in orders],
            "line_ids": [x[1] for x in lines], "line_orders": [x[0] for x in lines], "line_nos": [x[2] for x in lines],
            "line_items": [x[3].id for x in lines], "line_uoms": [x[3].uom for x in lines],
            "line_quantities": [x[4].quantity for x in lines], "line_due": [x[4].due_date for x in lines],
        }))
    movements = [m for ev in events for m in ev.movements]
    lines_ = [(m, ln) for m in movements for ln in m.lines]
    lot_rows = [(ln, r) for _m, ln in lines_ for r in ln.rows]
    out.append((sql.load_sql(PKG, "bulk_insert_movements"), {
        "ids": [m.id for m in movements], "types": [m.type for m in movements], "times": [m.at for m in movements],
        "refs": [m.external_ref for m in movements], "vendors": [m.vendor_id for m in movements],
        "customers": [m.customer_id for m in movements], "notes": [m.notes for m in movements],
        "line_ids": [ln.id for _m, ln in lines_], "line_movements": [m.id for m, _ln in lines_],
        "line_nos": [ln.line_no for _m, ln in lines_], "items": [ln.item.id for _m, ln in lines_],
        "locations": [ln.location.id for _m, ln in lines_], "uoms": [ln.item.uom for _m, ln in lines_],
        "quantities": [ln.quantity for _m, ln in lines_],
        "row_ids": [r.id for _ln, r in lot_rows], "row_lines": [r.line_id for _ln, r in lot_rows],
        "lots": [r.lot_id for _ln, r in lot_rows], "row_uoms": [ln.item.uom for ln, _r in lot_rows],
        "row_quantities": [r.quantity for _ln, r in lot_rows],
    }))
    out.append(_balances_statement(initial, final))
    executions = [ev for ev in events if ev.execution]
    if executions:
        out.append(_executions_statement(executions))
    shipments = [ev for ev in events if ev.shipment]
    if shipments:
        out.append(_shipments_statement(shipments))
        # one statement for every order (the audit trigger pairs its rows linearly since 0033)
        closing = [ev.order["id"] for ev in shipments if ev.order]
        if closing:
            out.append((sql.load_sql(PKG, "bulk_close_orders"), {"ids": closing}))
    sql.execute_all(s, [(statement, _arrays(params)) for statement, params in out], meanwhile=meanwhile)
    if orders:
        sales.refresh_line_fills(s, [o["id"] for o in orders])
    for ev in events:
        ev.outcome.lot_ids = list(dict.fromkeys(r.lot_id for m in ev.movements for ln in m.lines for r in ln.rows
                                                if r.lot_id is not None))


def _balances_statement(initial: dict[Key, tuple], final: dict[Key, tuple]) -> tuple[str, dict]:
    """Every changed balance row in one statement: rows that existed by their net change, new ones whole."""
    params: dict[str, list] = {}
    for prefix, subset in (("u_", [k for k in final if k in initial]), ("i_", [k for k in final if k not in initial])):
        subset.sort()
        params |= {
            f"{prefix}items": [k[0] for k in subset],
            f"{prefix}locations": [k[1] for k in subset],
            f"{prefix}lots": [k[2] for k in subset],
            f"{prefix}quantities": [final[k][0] - (initial[k][0] if k in initial else 0) for k in subset],
            f"{prefix}lasts": [final[k][1] for k in subset],
        }
    return sql.load_sql(PKG, "bulk_write_balances"), params


def _executions_statement(executions: list[_Event]) -> tuple[str, dict]:
    ex_ids, wos, times, consumes, produces, refs = [], [], [], [], [], []
    links: list[tuple[uuid.UUID, uuid.UUID, str]] = []  # (execution, lot row, role)
    edges: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, Decimal, Decimal, datetime]] = []
    for ev in executions:
        assert ev.execution is not None and ev.work_order is not None
        ex, consume, produce = ev.execution, ev.execution["consume"], ev.execution["produce"]
        ex_ids.append(ex["id"])
        wos.append(ev.work_order["id"])
        times.append(ev.at)
        consumes.append(consume.id if consume else None)
        produces.append(produce.id)
        refs.append(ex["ref"])
        consume_rows = [r for ln in consume.lines for r in ln.rows] if consume else []
        produce_rows = [r for ln in produce.lines for r in ln.rows]
        links += [(ex["id"], r.id, "consume") for r in consume_rows] + [(ex["id"], r.id, "produce") for r in produce_rows]
        used: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
        made: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
        for r in consume_rows:
            assert r.lot_id is not None
            used[r.lot_id] += -r.quantity
        for r in produce_rows:
            assert r.lot_id is not None
            made[r.lot_id] += r.quantity
        edges += [(ex["id"], p, c, used[p], made[c], ev.at) for p in used for c in made]
    return sql.load_sql(PKG, "bulk_insert_executions"), {
        "ids": ex_ids, "work_orders": wos, "times": times, "consumes": consumes, "produces": produces, "refs": refs,
        "link_ids": [new_id() for _ in links], "link_executions": [x[0] for x in links],
        "link_rows": [x[1] for x in links], "link_roles": [x[2] for x in links],
        "edge_executions": [e[0] for e in edges], "parents": [e[1] for e in edges], "children": [e[2] for e in edges],
        "consumed": [e[3] for e in edges], "produced": [e[4] for e in edges], "edge_times": [e[5] for e in edges],
    }


def _shipments_statement(shipments: list[_Event]) -> tuple[str, dict]:
    heads, lines, links, per_lot = [], [], [], []
    for ev in shipments:
        assert ev.shipment is not None and ev.order is not None
        sh, order, m = ev.shipment, ev.order, ev.movements[0]
        heads.append((sh["id"], order["id"], sh["customer_id"], ev.at, m.id, sh["ref"], order["number"]))
        for ln, order_line, qty in zip(m.lines, sh["order_lines"], sh["quantities"], strict=True):
            lines.append((new_id(), sh["id"], order_line, ln.id, qty))
        links += [(new_id(), sh["id"], r.id) for ln in m.lines for r in ln.rows]
        shipped: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
        for ln in m.lines:
            for r in ln.rows:
                assert r.lot_id is not None
                shipped[r.lot_id] -= r.quantity
        per_lot += [(lot, sh["id"], q) for lot, q in shipped.items()]
    return sql.load_sql(PKG, "bulk_insert_shipments"), {
        "ids": [h[0] for h in heads], "orders": [h[1] for h in heads], "customers": [h[2] for h in heads],
        "times": [h[3] for h in heads], "movements": [h[4] for h in heads], "refs": [h[5] for h in heads],
        "numbers": [h[6] for h in heads],
        "line_ids": [x[0] for x in lines], "line_shipments": [x[1] for x in lines], "order_lines": [x[2] for x in lines],
        "movement_lines": [x[3] for x in lines], "line_quantities": [x[4] for x in lines],
        "link_ids": [x[0] for x in links], "link_shipments": [x[1] for x in links], "link_rows": [x[2] for x in links],
        "lot_ids": [x[0] for x in per_lot], "lot_shipments": [x[1] for x in per_lot],
        "lot_quantities": [x[2] for x in per_lot],
    }
