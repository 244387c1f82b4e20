"""Reading an EPCIS event for the mapping: its quantities, places and parties as lotline records.

``EventReader`` holds the pieces every mapping rule uses (``mapping`` says which rule posts what):
quantity elements as ``Qty`` (class, item record, quantity in the item's stocking unit), the
event's location (bizLocation, else readPoint), the vendor or customer of a source/destination
list, lots by code, order numbers from bizTransactions. ``Outcome`` is what applying an event
came to. Nothing here writes.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.epcis import identifiers as ids
from lotline.epcis.masterdata import Rec, Registry
from lotline.epcis.units import to_stocking
from lotline.epcis.vocab import _last_segment, cbv
from lotline.errors import InvalidInput, NotFound
from lotline.models import Lot

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

    @property
    def posted(self) -> Decimal:
        """The quantity of a line that posts one (events that post refuse lines without one first)."""
        if self.quantity is None:
            raise InvalidInput(f"{self.raw} has no quantity; lotline posts quantities")
        return self.quantity


def _lot_ids(*posted) -> list[uuid.UUID]:
    """Lots a posting touched, from its own lot rows (no query)."""
    return list(dict.fromkeys(r.lot_id for p in posted if p is not None for rows in p.lot_rows for r in rows))


def _short(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


class EventReader:
    """The pieces of an event, resolved through the job's ``Registry`` inside its session."""

    def __init__(self, registry: Registry):
        self.registry = registry

    @property
    def session(self) -> Session:
        return self.registry.db

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

    def order_number(self, event: dict, kind: str, key: str) -> str | None:
        for bt in event.get("bizTransactionList") or []:
            if cbv(bt.get("type")) == kind:
                number = _last_segment(bt["bizTransaction"])
                if len(number) > 64:
                    raise InvalidInput(f"{kind} {bt['bizTransaction']!r}: order number {number[:20]}... is over 64 characters")
                return number
        return None
