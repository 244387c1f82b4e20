"""Export a trace (or a recall's trace run) as one EPCIS 2.0 JSON-LD document.

What is exported: the lots of the trace, plus every ancestor of them (a lot cannot be produced without
its inputs, so a document that another lotline can import must carry their history too), and, as of the
time asked, every ledger movement of those lots:

- receipt → ObjectEvent ADD ``receiving`` (one per lot, so its ILMD — expiry, production date, vendor lot —
  is the lot's own), from the vendor (sourceList ``owning_party``);
- transfer → ObjectEvent OBSERVE ``storing`` with source and destination locations;
- production execution → TransformationEvent (inputs, outputs, ``prodorder`` = the work order; per-element
  locations and output expiries in lotline's extension members), only when one of its outputs is exported;
- shipment → ObjectEvent OBSERVE ``shipping`` (one per ship-from location) to the customer
  (destinationList ``owning_party``), ``po`` = the sales order, which is carried by a TransactionEvent ADD
  (its lines as item classes, due dates in ``lotline:dueDates``) placed at the order's time;
- scrap → ``destroying``; count adjustment → ``cycle_counting`` ADD/DELETE; return → ``receiving`` with
  disposition ``returned`` from the customer;
- a reversed movement → its events, then the same events with an ``errorDeclaration`` at the reversal's time;
- a lot that is not active (exports as of now only) → an ObjectEvent OBSERVE ``holding`` with its status
  (not ``consumed`` for a component whose other uses the document leaves out: it still holds stock there).

Identifiers: GTIN/GLN URNs when the record has one with a known company-prefix length, Digital Link when
the length is unknown or ``digital_link=True``, lotline URNs otherwise; the header's master data carries
SKU, name, unit, lot tracking, shelf life, location kind, party code and name (``urn:lotline:mda:*``), so the
document can be imported into an empty database with ``--create-master-data``. Event IDs are stable
(``urn:uuid:`` v5 of the movement), so exporting twice and importing both posts once.

Rows are read in one set-based statement (sql/export_rows.sql), never one query per lot.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.db import sql
from lotline.epcis import identifiers as ids
from lotline.epcis.masterdata import MDA, identifiers_of
from lotline.epcis.units import rec20_of
from lotline.errors import NotFound
from lotline.models import Customer, Item, Location, Lot, Vendor
from lotline.trace import service as trace_service
from lotline.types import utcnow

CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"lotline": "urn:lotline:epcis:"}]
NS = uuid.UUID("6f1c2a1e-4b7e-5d8a-9c3f-2e1d0b9a8c7f")


def _t(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _num(value: Decimal) -> int | float:
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


class _Names:
    """Identifier URIs of the records in the export, and their master data."""

    def __init__(self, session: Session, item_ids, location_ids, vendor_ids, customer_ids, *, digital_link: bool):
        self.dl = digital_link
        self.items = {x.id: x for x in session.scalars(sa.select(Item).where(Item.id.in_(item_ids)))}
        self.locations = {x.id: x for x in session.scalars(sa.select(Location).where(Location.id.in_(location_ids)))}
        self.vendors = {x.id: x for x in session.scalars(sa.select(Vendor).where(Vendor.id.in_(vendor_ids)))}
        self.customers = {x.id: x for x in session.scalars(sa.select(Customer).where(Customer.id.in_(customer_ids)))}
        self.gtin = identifiers_of(session, "item", list(self.items))
        self.gln = {
            "location": identifiers_of(session, "location", list(self.locations)),
            "vendor": identifiers_of(session, "vendor", list(self.vendors)),
            "customer": identifiers_of(session, "customer", list(self.customers)),
        }

    def lot_class(self, item_id, lot_code: str | None) -> str:
        item = self.items[item_id]
        g = self.gtin.get(item_id)
        return ids.lot_class(gtin=g[0] if g else None, cp_len=g[2] if g else None, sku=item.sku, lot=lot_code,
                             digital_link=self.dl)

    def location(self, location_id) -> str:
        loc = self.locations[location_id]
        g = self.gln["location"].get(location_id)
        return ids.location_id(gln=g[0] if g else None, extension=g[1] if g else "", cp_len=g[2] if g else None,
                               code=loc.code, digital_link=self.dl)

    def party(self, role: str, record_id) -> str:
        rec = (self.vendors if role == "vendor" else self.customers)[record_id]
        g = self.gln[role].get(record_id)
        return ids.party_id(gln=g[0] if g else None, cp_len=g[2] if g else None, code=rec.code, role=role,
                            digital_link=self.dl)

    def quantity(self, item_id, lot_code: str | None, qty: Decimal) -> dict:
        item = self.items[item_id]
        q = {"epcClass": self.lot_class(item_id, lot_code), "quantity": _num(qty)}
        code = rec20_of(item.uom)
        if code:
            q["uom"] = code
        return q

    def master_data(self) -> dict:
        def attrs(pairs):
            return [{"id": MDA + k, "attribute": v} for k, v in pairs if v is not None]

        return {"epcisMasterData": {"vocabularyList": [
            {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": [
                {"id": self.lot_class(i.id, None), "attributes": attrs([
                    ("sku", i.sku), ("name", i.name), ("uom", i.uom), ("lotTracked", "true" if i.lot_tracked else "false"),
                    ("shelfLifeDays", i.shelf_life_days)])}
                for i in self.items.values()]},
            {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": [
                {"id": self.location(x.id), "attributes": attrs([("code", x.code), ("name", x.name), ("kind", x.kind)])}
                for x in self.locations.values()]},
            {"type": "urn:epcglobal:epcis:vtype:Party", "vocabularyElementList": [
                {"id": self.party(role, x.id), "attributes": attrs([("code", x.code), ("name", x.name),
                                                                    ("email", x.contact_email)])}
                for role, recs in (("vendor", self.vendors), ("customer", self.customers)) for x in recs.values()]},
        ]}}


def export_lots(
    session: Session,
    lot_ids: Sequence[uuid.UUID],
    direction: str = "forward",
    as_of: datetime | None = None,
    *,
    digital_link: bool = False,
    include_ancestors: bool = True,
    max_depth: int | None = None,
) -> dict:
    """The EPCIS document of the trace of ``lot_ids`` in ``direction`` as of ``as_of``, ``max_depth`` hops
    at most (see module doc)."""
    traced = trace_service.trace(session, list(lot_ids), direction, as_of, max_depth, with_stock=False)
    wanted = {x.lot_id for x in traced.lots}
    if include_ancestors:
        wanted |= {x.lot_id for x in trace_service.trace(session, list(wanted), "backward", as_of, with_stock=False).lots}
    return _document(session, wanted, as_of, digital_link=digital_link)


def export_recall(session: Session, recall_number: str, *, digital_link: bool = False) -> dict:
    """The EPCIS document of a recall's latest computed trace run (its impacted lots, as of the run)."""
    run = session.execute(
        sa.text(
            "SELECT r.id, r.as_of FROM recall_trace_runs r JOIN recall_cases c ON c.id = r.recall_case_id"
            " WHERE c.recall_number = :n AND r.status = 'computed' ORDER BY r.computed_at DESC LIMIT 1"
        ),
        {"n": recall_number},
    ).first()
    if run is None:
        known = session.scalar(sa.text("SELECT 1 FROM recall_cases WHERE recall_number = :n"), {"n": recall_number})
        what = "has no computed trace run" if known else "is unknown"
        raise NotFound(f"recall {recall_number!r} {what}", kind="recall", ref=recall_number)
    lots = list(session.execute(sa.text("SELECT DISTINCT lot_id FROM recall_impacted_lots WHERE recall_trace_run_id = :r"),
                                {"r": run.id}).scalars())
    wanted = set(lots)
    if lots:
        wanted |= {x.lot_id for x in trace_service.trace(session, lots, "backward", run.as_of, with_stock=False).lots}
    return _document(session, wanted, run.as_of, digital_link=digital_link)


def _document(session: Session, wanted: set[uuid.UUID], as_of: datetime | None, *, digital_link: bool) -> dict:  # noqa: C901 — one pass over the rows in time order (10^5 rows per export)
    when = as_of or utcnow()
    session.flush()  # the runner does not autoflush
    rows = sql.rows(session, sql.load_sql("lotline.epcis", "export_rows"), {"lot_ids": list(wanted), "as_of": when},
                    kind="tuple")
    lots = {x.id: x for x in session.scalars(sa.select(Lot).where(Lot.id.in_(wanted)))}
    movements: dict[uuid.UUID, list] = defaultdict(list)
    order_of: dict[uuid.UUID, tuple] = {}
    for r in rows:
        movements[r[0]].append(r)
        order_of.setdefault(r[0], (r[2], r[19], r[0]))
    orders = sorted({r[17] for r in rows if r[17] is not None})
    order_rows = session.execute(
        sa.text(
            "SELECT o.id, o.number, o.customer_id, o.ordered_at, l.line_no, l.item_id, l.quantity_ordered, l.due_date"
            "  FROM sales_orders o JOIN sales_order_lines l ON l.sales_order_id = o.id WHERE o.id = ANY(:ids)"
            " ORDER BY o.id, l.line_no"
        ),
        {"ids": orders},
    ).all()
    names = _Names(
        session,
        {r[8] for r in rows} | {x.item_id for x in lots.values()} | {r.item_id for r in order_rows},
        {r[9] for r in rows},
        {r[5] for r in rows if r[5]},
        {r[6] for r in rows if r[6]} | {r.customer_id for r in order_rows},
        digital_link=digital_link,
    )
    timeline: list[tuple[tuple, dict]] = []
    first_shipped: dict[uuid.UUID, datetime] = {}
    for r in rows:
        if r[17] is not None:
            first_shipped[r[17]] = min(first_shipped.get(r[17], r[2]), r[2])
    for oid, number, customer_id, ordered_at, lines in _orders(order_rows):
        # an order is placed before its first shipment even where its recorded time says otherwise
        ordered_at = min(ordered_at, first_shipped.get(oid, ordered_at))
        timeline.append(((ordered_at, datetime.min.replace(tzinfo=UTC), uuid.UUID(int=0), 0), {
            "type": "TransactionEvent", "eventTime": _t(ordered_at), "eventTimeZoneOffset": "+00:00",
            "eventID": f"urn:uuid:{uuid.uuid5(NS, f'order:{oid}')}", "action": "ADD",
            "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:lotline:so:{ids.quote(number, safe='')}"}],
            "quantityList": [names.quantity(item_id, None, qty) for item_id, qty, _due in lines],
            "destinationList": [{"type": "owning_party", "destination": names.party("customer", customer_id)}],
            "lotline:dueDates": [due.isoformat() for _i, _q, due in lines],
        }))
    by_movement: dict[uuid.UUID, list[dict]] = {}
    executions: dict[uuid.UUID, list] = defaultdict(list)
    for mid, mrows in movements.items():
        first = mrows[0]
        if first[12] is not None:
            executions[first[12]].extend(mrows)
            continue
        if first[4] is not None:
            continue  # a reversal: emitted as error declarations below
        by_movement[mid] = _movement_events(names, lots, mid, mrows)
        for n, ev in enumerate(by_movement[mid]):
            timeline.append(((*order_of[mid], n), ev))
    partial: set[uuid.UUID] = set()  # lots with uses the document leaves out
    for eid, erows in executions.items():
        execution = _execution_event(names, lots, wanted, eid, erows)
        if execution is None:
            partial |= {r[10] for r in erows if r[15]}
        else:
            execution["_execution"] = str(eid)
            timeline.append(((erows[0][13], min(r[19] for r in erows), erows[0][16], 0), execution))
    _reuse_captured_ids(session, by_movement, executions, timeline)
    for _k, ev in timeline:
        ev.pop("_execution", None)
    for mrows in movements.values():
        first = mrows[0]
        if first[4] is not None and first[4] in by_movement:
            for n, ev in enumerate(by_movement[first[4]]):
                declared = dict(ev)
                declared["errorDeclaration"] = {"declarationTime": _t(first[2]), "reason": "incorrect_data"}
                timeline.append(((*order_of[first[0]], n), declared))
    timeline.sort(key=lambda x: x[0])
    events = [ev for _k, ev in timeline]
    if as_of is None:
        last = max([when] + [x.updated_at for x in lots.values() if x.status != "active"])
        for lot in sorted(lots.values(), key=lambda x: (str(x.item_id), x.lot_code)):
            # "consumed" needs the lot used up, which it is only where all its uses are exported
            if lot.status != "active" and not (lot.status == "consumed" and lot.id in partial):
                events.append(_status_event(names, lot, min(last, utcnow())))
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _t(utcnow()),
        "epcisHeader": names.master_data(),
        "epcisBody": {"eventList": events},
    }


def _reuse_captured_ids(session: Session, by_movement, executions, timeline) -> None:
    """Postings that came from a captured EPCIS event are exported under that event's ID, so importing the
    export where the event was captured replays it instead of posting it twice (one statement)."""
    movement_ids = [str(m) for m in by_movement]
    execution_ids = [str(e) for e in executions]
    if not movement_ids and not execution_ids:
        return
    found = sql.rows(session, "SELECT event_key, effects FROM epcis_events WHERE mapping <> 'declaration'"
                              " AND (effects->'movements' ?| %(m)s::text[] OR effects->>'execution' = ANY(%(e)s::text[]))",
                     {"m": movement_ids, "e": execution_ids}, kind="tuple")
    key_of: dict[str, str] = {}
    for key, effects in found:
        for m in effects.get("movements", []):
            key_of.setdefault(m, key)
        if effects.get("execution"):
            key_of.setdefault(effects["execution"], key)
    if not key_of:
        return
    first_event = {}
    for mid, evs in by_movement.items():
        if evs and str(mid) in key_of:
            first_event[id(evs[0])] = key_of[str(mid)]
    for _k, ev in timeline:
        if id(ev) in first_event:
            ev["eventID"] = first_event[id(ev)]
        elif ev["type"] == "TransformationEvent" and ev.get("_execution") in key_of:
            ev["eventID"] = key_of[ev["_execution"]]


def _orders(order_rows):
    current, lines = None, []
    for r in order_rows:
        if current is not None and r.id != current.id:
            yield current.id, current.number, current.customer_id, current.ordered_at, lines
            lines = []
        current = r
        lines.append((r.item_id, r.quantity_ordered, r.due_date))
    if current is not None:
        yield current.id, current.number, current.customer_id, current.ordered_at, lines


def _base(mid, part: str, at: datetime, etype: str, **members) -> dict:
    ev = {"type": etype, "eventTime": _t(at), "eventTimeZoneOffset": "+00:00",
          "eventID": f"urn:uuid:{uuid.uuid5(NS, f'{mid}:{part}')}"}
    ev.update(members)
    return ev


def _movement_events(names: _Names, lots, mid, mrows) -> list[dict]:
    mtype, at = mrows[0][1], mrows[0][2]
    out = []
    if mtype == "receipt":
        for r in mrows:
            lot = lots[r[10]]
            ilmd = {"lotline:expiresAt": _t(lot.expires_at) if lot.expires_at else None,
                    "cbvmda:itemExpirationDate": lot.expires_at.astimezone(UTC).date().isoformat() if lot.expires_at else None,
                    "lotline:manufacturedAt": _t(lot.manufactured_at) if lot.manufactured_at else None,
                    "lotline:vendorLotCode": lot.vendor_lot_code}
            out.append(_base(mid, f"lot:{r[10]}", at, "ObjectEvent", action="ADD", bizStep="receiving",
                             disposition="in_progress", quantityList=[names.quantity(r[8], lot.lot_code, r[11])],
                             bizLocation={"id": names.location(r[9])},
                             sourceList=[{"type": "owning_party", "source": names.party("vendor", r[5])}],
                             ilmd={k: v for k, v in ilmd.items() if v is not None}))
        return out
    if mtype == "transfer":
        neg = [r for r in mrows if r[11] < 0]
        pos = [r for r in mrows if r[11] > 0]
        src, dst = names.location(neg[0][9]), names.location(pos[0][9])
        return [_base(mid, "transfer", at, "ObjectEvent", action="OBSERVE", bizStep="storing",
                      quantityList=[names.quantity(r[8], lots[r[10]].lot_code, -r[11]) for r in neg],
                      bizLocation={"id": dst},
                      sourceList=[{"type": "location", "source": src}],
                      destinationList=[{"type": "location", "destination": dst}])]
    groups: dict[tuple, list] = defaultdict(list)
    for r in mrows:
        groups[(r[9], r[11] > 0)].append(r)
    for (location_id, positive), grows in groups.items():
        part = f"{location_id}:{positive}"
        qty = [names.quantity(r[8], lots[r[10]].lot_code, abs(r[11])) for r in grows]
        where = {"bizLocation": {"id": names.location(location_id)}}
        if mtype == "shipment":
            out.append(_base(mid, part, at, "ObjectEvent", action="OBSERVE", bizStep="shipping", disposition="in_transit",
                             quantityList=qty, **where,
                             bizTransactionList=[{"type": "po", "bizTransaction": f"urn:lotline:so:{ids.quote(grows[0][18], safe='')}"}],
                             destinationList=[{"type": "owning_party", "destination": names.party("customer", grows[0][6])}]))
        elif mtype == "scrap":
            out.append(_base(mid, part, at, "ObjectEvent", action="OBSERVE", bizStep="destroying", disposition="destroyed",
                             quantityList=qty, **where))
        elif mtype == "adjustment":
            out.append(_base(mid, part, at, "ObjectEvent", action="ADD" if positive else "DELETE", bizStep="cycle_counting",
                             quantityList=qty, **where))
        elif mtype == "return":
            out.append(_base(mid, part, at, "ObjectEvent", action="OBSERVE", bizStep="receiving", disposition="returned",
                             quantityList=qty, **where,
                             sourceList=[{"type": "owning_party", "source": names.party("customer", grows[0][6])}]))
    return out


def _execution_event(names: _Names, lots, wanted, eid, erows) -> dict | None:
    ins = [r for r in erows if r[15]]
    outs = [r for r in erows if not r[15] and r[10] in wanted]
    if not outs:
        return None
    at, number = erows[0][13], erows[0][14]
    return _base(eid, "execution", at, "TransformationEvent", bizStep="commissioning", disposition="active",
                 inputQuantityList=[names.quantity(r[8], lots[r[10]].lot_code, -r[11]) for r in ins],
                 outputQuantityList=[names.quantity(r[8], lots[r[10]].lot_code, r[11]) for r in outs],
                 bizLocation={"id": names.location(outs[0][9])},
                 bizTransactionList=[{"type": "prodorder", "bizTransaction": f"urn:lotline:wo:{ids.quote(number, safe='')}"}],
                 **{"lotline:inputLocations": [names.location(r[9]) for r in ins],
                    "lotline:outputLocations": [names.location(r[9]) for r in outs],
                    "lotline:outputExpiresAt": [_t(lots[r[10]].expires_at) if lots[r[10]].expires_at else None for r in outs]})


def _status_event(names: _Names, lot: Lot, at: datetime) -> dict:
    disposition = {"blocked": "recalled", "quarantine": "non_sellable_other", "expired": "expired",
                   "consumed": "inactive"}[lot.status]
    return _base(lot.id, f"status:{lot.status}", at, "ObjectEvent", action="OBSERVE", bizStep="holding",
                 disposition=disposition, quantityList=[{"epcClass": names.lot_class(lot.item_id, lot.lot_code)}],
                 **{"lotline:lotStatus": lot.status})
