"""The EPCIS events that post: receipts, customer returns, shipments, executions, sales orders.

``Postings`` turns a read event (``reading.EventReader``) into calls of the ordinary services —
inventory, sales, production — so every lot rule applies and a refusal is the service's own error.
Which event becomes which posting, and how a shipment finds its sales order or an execution its
work order, is the rule table in ``mapping``'s module doc.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lotline.epcis import identifiers as ids
from lotline.epcis.document import external_ref
from lotline.epcis.reading import EXT, EventReader, Outcome, _lot_ids, _short
from lotline.epcis.vocab import (
    RELEASING,
    STATUS_OF_DISPOSITION,
    _date_or_time,
    _ilmd_value,
    _last_segment,
    cbv,
)
from lotline.errors import InvalidInput
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn, ReturnIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.models import SalesOrder, WorkOrder
from lotline.production import service as production
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.sales import service as sales
from lotline.sales.schemas import SalesOrderIn, ShipmentIn


class Postings(EventReader):
    """One method per posting rule, and the disposition -> lot status rule; ``Mapper`` picks the rule."""

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
            # shipped right below, in this savepoint: the shipment derives the lines' fill state
            order = sales.create_order(self.session, SalesOrderIn(
                number=number, customer=customer.code, ordered_at=at, notes=f"created for EPCIS {where}",
                lines=[{"item": sku, "quantity": qty, "due_date": at.date()} for sku, qty in totals.items()],
            ), refresh_fills=False)
            created = True
            item_of = {q.item.code: q.item.id for q in qs}
            # the lines just made, one per item in order, all open: no need to read them back
            open_lines = [(n, item_of[sku], qty) for n, (sku, qty) in enumerate(totals.items(), start=1)]
        elif order.customer_id != customer.id:
            raise InvalidInput(f"{where}: sales order {number} belongs to another customer than {customer.code}")
        else:
            open_lines = [(x["line"].line_no, x["line"].item_id, x["open"]) for x in sales.order_lines(self.session, order)]
        remaining = {no: left for no, _item, left in open_lines}
        ship_lines = []
        for q in qs:
            candidates = [no for no, item_id, _left in open_lines if item_id == q.item.id]
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
        if created and shipped.replayed:  # (nothing shipped now: the new order's fill state is derived here)
            sales.refresh_line_fills(self.session, [order.id])
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
