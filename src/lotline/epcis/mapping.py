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

from datetime import datetime

from lotline.epcis import declarations
from lotline.epcis.document import external_ref
from lotline.epcis.postings import Postings
from lotline.epcis.reading import CONTEXT_PREFIX, EXT, LOTLINE, Outcome, Qty
from lotline.epcis.vocab import cbv, parse_time
from lotline.errors import InvalidInput
from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ScrapIn, TransferIn

__all__ = ["CONTEXT_PREFIX", "EXT", "LOTLINE", "Mapper", "Outcome", "Qty", "cbv", "parse_time"]


class Mapper(Postings):
    """Applies one event at a time inside the caller's session (see module doc): the rule table.

    The pieces of an event are read by ``reading.EventReader``, the postings made by
    ``postings.Postings``, error declarations undone by ``declarations``.
    """

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

    def object_event(self, event: dict, key: str, at: datetime, where: str) -> Outcome:  # noqa: C901 — the bizStep x action mapping table of the module doc, in order
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
                lines=[{"item": q.item.code, "location": location.code, "quantity": sign * q.posted,
                        "lots": [{"lot": q.ref.lot, "quantity": sign * q.posted}] if q.ref.lot is not None else []}
                       for q in qs],
            ))
            posted = Outcome("posted", "adjustment", effects={"movements": [str(p.movement.id)]})
        status = self.status_only(event, qs, where, step, disp, note, after=posted)
        return status

    def declaration(self, event: dict, key: str, where: str) -> Outcome:
        return declarations.declare(self, event, key, where)
