"""Inventory use cases: receive, transfer, adjust, scrap, return, reverse — user input to posted lines.

Each use case resolves references (items, locations, lots by code or id), picks lots first-expiry-
first-out where none are named, and posts through ``posting.post_movement``, where the lot rules
live (``rules``: line and lot checks; ``balances``: the global lock order and no lot below zero in
time). Production and sales post the same way. Lot rows on an untracked item are refused with one
error wherever they are given (``rules.no_lots_on_untracked``), before any lot is looked up.

Raises: NotFound, InvalidInput, AllocationMismatch, WrongLotItem, LotNotReleased,
InsufficientQuantity, OverReturn, DuplicateKey, InvalidStateTransition.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.audit import service as audit
from lotline.catalog import service as catalog
from lotline.errors import (
    AllocationMismatch,
    InsufficientQuantity,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from lotline.inventory import held, refs, rules
from lotline.inventory.balances import Stocked, lock_stock
from lotline.inventory.held import lot_created
from lotline.inventory.posting import (
    Line,
    LotDelta,
    LotRef,
    Posted,
    _replay,
    already_posted,
    claim_external_ref,
    get_movement,
    lock_external_ref,
    post_movement,
)
from lotline.inventory.schemas import (
    AdjustmentIn,
    LotQty,
    ReceiptIn,
    ReturnIn,
    ReversalIn,
    ScrapIn,
    TransferIn,
)
from lotline.lots import service as lots_service
from lotline.lots.allocation import Candidate, allocate
from lotline.models import Customer, InventoryMovement, Item, Location, Lot, Vendor
from lotline.types import utcnow

__all__ = [
    "Line",
    "LotDelta",
    "LotRef",
    "Posted",
    "already_posted",
    "get_movement",
    "lock_external_ref",
    "claim_external_ref",
    "lock_stock",
    "lot_created",
    "known_lot",
    "post_movement",
    "outbound_lots",
    "resolve_lot_refs",
    "receive",
    "transfer",
    "adjust",
    "scrap",
    "return_goods",
    "reverse",
]

REVERSIBLE = {"receipt", "transfer", "adjustment", "scrap", "return"}


# --- use cases -----------------------------------------------------------------------------------


def known_lot(session: Session, item: Item, lot_code: str) -> Lot | None:
    """A lot of ``item`` this transaction made or looked up by code (no query), else None."""
    return held.of(session).by_code.get((item.id, lot_code))


def resolve_lot_refs(session: Session, item: Item, refs: Sequence[str], *, context: str) -> dict[str, Lot]:
    """Lots by code (within ``item``) or UUID (any item: the posting checks it), in one query."""
    if not refs:
        return {}
    known = held.of(session).by_code
    if all((item.id, str(r)) in known for r in refs):  # lots this transaction made or looked up
        return {r: known[(item.id, str(r))] for r in refs}
    ids = {r: catalog.as_uuid(r) for r in refs}
    rows = session.scalars(
        sa.select(Lot).where(
            sa.or_(
                Lot.id.in_([i for i in ids.values() if i is not None]),
                sa.and_(Lot.item_id == item.id, Lot.lot_code.in_([str(r) for r in refs])),
            )
        )
    ).all()
    by_id = {x.id: x for x in rows}
    by_code = {x.lot_code: x for x in rows if x.item_id == item.id}
    out = {}
    for ref, rid in ids.items():
        lot = by_id.get(rid) if rid is not None else None
        lot = lot or by_code.get(str(ref))
        if lot is None:
            raise NotFound(f"unknown lot {ref!r} of item {item.sku} ({context})", kind="lot", ref=str(ref))
        out[ref] = lot
        if lot.item_id == item.id:
            known[(item.id, lot.lot_code)] = lot
    return out


def _fefo_candidates(stock: Sequence[Stocked], at: datetime) -> list[Candidate]:
    return [
        Candidate(r.lot_id, r.lot_code, r.quantity, r.expires_at, r.received_at)
        for r in stock
        if r.lot_id is not None
        and r.lot_code is not None  # (always, with a lot: the row is joined to it)
        and r.quantity > 0
        and r.status == lots_service.RELEASED
        and (r.expires_at is None or r.expires_at > at)
    ]


def outbound_lots(
    session: Session,
    item: Item,
    location: Location,
    quantity: Decimal,
    lots: Sequence[LotQty] | None,
    at: datetime,
    *,
    context: str,
    stock: dict[tuple, list[Stocked]] | None = None,
) -> list[LotDelta]:
    """Negative lot deltas for taking ``quantity`` of ``item`` from ``location``.

    Named lots are used as given; otherwise released lots are allocated FEFO from ``stock`` (what
    ``lock_stock`` locked for this posting) or, without it, from the location's stock locked now.
    """
    rules.no_lots_on_untracked(item, lots, context)
    if not item.lot_tracked:
        return []
    if lots:
        found = resolve_lot_refs(session, item, [x.lot for x in lots], context=context)
        return [LotDelta(found[x.lot], -x.quantity) for x in lots]
    pair = (item.id, location.id)
    held_before = pair in held.of(session).pairs
    if stock is None:
        stock = lock_stock(session, [pair])
    what = f"{item.sku} at {location.code} ({context})"
    try:
        chosen = allocate(quantity, _fefo_candidates(stock.get(pair, []), at), what=what)
    except InsufficientQuantity:
        if not held_before:
            raise
        # Picked from rows this transaction locked earlier: stock another posting has since put into
        # a row of this place that was empty then is not among them. Read the place again.
        fresh = lock_stock(session, [pair], fresh=True)
        chosen = allocate(quantity, _fefo_candidates(fresh[pair], at), what=what)
    return [LotDelta(LotRef(a.lot_id, item.id, a.lot_code), -a.quantity) for a in chosen]


def receive(session: Session, data: ReceiptIn) -> Posted:
    """Receive goods from a vendor into new lots (expiry defaulted from the item's shelf life)."""
    records = refs.resolve_all(
        session,
        {Vendor: [data.vendor], Item: [x.item for x in data.lines], Location: [x.location for x in data.lines]},
        context="receipt",
    )
    vendor, items, locations = records[Vendor][data.vendor], records[Item], records[Location]
    occurred_at = data.occurred_at or utcnow()
    # Checked before lots are created: a replayed receipt must not fail on its own lot codes.
    if data.external_ref and (existing := already_posted(session, data.external_ref, "receipt")):
        return existing
    lines = []
    for n, ln in enumerate(data.lines, start=1):
        item, location = items[ln.item], locations[ln.location]
        rules.no_lots_on_untracked(item, ln.lots, f"receipt line {n}")
        if item.lot_tracked and not ln.lots:
            raise AllocationMismatch(
                f"line {n} ({item.sku}): item is lot-tracked; give the lot code(s) received"
            )
        lines.append(
            Line(
                item,
                location,
                ln.quantity,
                unit_cost=ln.unit_cost,
            )
        )
    # every new lot of the receipt checked in one query and inserted in one flush
    new = [(line.item, lot_in) for line, ln in zip(lines, data.lines, strict=True) for lot_in in ln.lots]
    created = lots_service.create_lots(session, new, received_at=occurred_at)
    for lot in created:
        lot_created(session, lot)
    made = iter(created)
    for line, ln in zip(lines, data.lines, strict=True):
        line.lots = [LotDelta(next(made), x.quantity) for x in ln.lots]
    return post_movement(
        session,
        "receipt",
        occurred_at,
        lines,
        vendor_id=vendor.id,
        external_ref=data.external_ref,
        notes=data.notes,
        claimed=True,  # checked above, before the lots were made
    )


def transfer(session: Session, data: TransferIn) -> Posted:
    """Move stock between locations; lots keep their identity."""
    records = refs.resolve_all(
        session, {Item: [data.item], Location: [data.from_location, data.to_location]}, context="transfer"
    )
    item, src, dst = records[Item][data.item], records[Location][data.from_location], records[Location][data.to_location]
    if src.id == dst.id:
        raise InvalidInput(f"transfer from {src.code} to itself")
    occurred_at = data.occurred_at or utcnow()
    # Both places' stock, in the global order, before picking: transfers in opposite directions queue.
    # (the destination's rows are only added to: locked, not read — a busy place holds many lots)
    stock = (
        lock_stock(session, [(item.id, src.id), (item.id, dst.id)], unread={(item.id, dst.id)})
        if item.lot_tracked
        else None
    )
    taken = outbound_lots(
        session, item, src, data.quantity, data.lots, occurred_at, context="transfer", stock=stock
    )
    lines = [
        Line(item, src, -data.quantity, taken),
        Line(item, dst, data.quantity, [LotDelta(x.lot, -x.quantity_delta) for x in taken]),
    ]
    return post_movement(
        session, "transfer", occurred_at, lines, external_ref=data.external_ref, notes=data.notes, locked=stock
    )


def adjust(session: Session, data: AdjustmentIn) -> Posted:
    """Count correction: signed quantities into or out of existing lots."""
    records = refs.resolve_all(
        session, {Item: [x.item for x in data.lines], Location: [x.location for x in data.lines]}, context="adjustment"
    )
    items, locations = records[Item], records[Location]
    lines = []
    for n, ln in enumerate(data.lines, start=1):
        item = items[ln.item]
        rules.no_lots_on_untracked(item, ln.lots, f"adjustment line {n}")
        found = resolve_lot_refs(session, item, [x.lot for x in ln.lots], context=f"adjustment line {n}")
        lines.append(
            Line(
                item,
                locations[ln.location],
                ln.quantity,
                [LotDelta(found[x.lot], x.quantity) for x in ln.lots],
            )
        )
    return post_movement(
        session,
        "adjustment",
        data.occurred_at or utcnow(),
        lines,
        external_ref=data.external_ref,
        notes=data.reason,
    )


def scrap(session: Session, data: ScrapIn) -> Posted:
    """Write stock off at a location (any lot status may be scrapped)."""
    records = refs.resolve_all(session, {Item: [data.item], Location: [data.location]}, context="scrap")
    item, location = records[Item][data.item], records[Location][data.location]
    occurred_at = data.occurred_at or utcnow()
    if item.lot_tracked and not data.lots:
        raise AllocationMismatch(f"scrap of {item.sku}: item is lot-tracked; say which lots are scrapped")
    stock = lock_stock(session, [(item.id, location.id)]) if item.lot_tracked else None
    taken = outbound_lots(
        session, item, location, data.quantity, data.lots, occurred_at, context="scrap", stock=stock
    )
    return post_movement(
        session,
        "scrap",
        occurred_at,
        [Line(item, location, -data.quantity, taken)],
        external_ref=data.external_ref,
        notes=data.notes,
        locked=stock,
    )


def return_goods(session: Session, data: ReturnIn) -> Posted:
    """Goods coming back from a customer, into the lots they were shipped from."""
    records = refs.resolve_all(
        session,
        {Customer: [data.customer], Item: [x.item for x in data.lines], Location: [x.location for x in data.lines]},
        context="return",
    )
    customer, items, locations = records[Customer][data.customer], records[Item], records[Location]
    lines = []
    for n, ln in enumerate(data.lines, start=1):
        item = items[ln.item]
        rules.no_lots_on_untracked(item, ln.lots, f"return line {n}")
        found = resolve_lot_refs(session, item, [x.lot for x in ln.lots], context=f"return line {n}")
        lines.append(
            Line(
                item,
                locations[ln.location],
                ln.quantity,
                [LotDelta(found[x.lot], x.quantity) for x in ln.lots],
            )
        )
    return post_movement(
        session,
        "return",
        data.occurred_at or utcnow(),
        lines,
        customer_id=customer.id,
        external_ref=data.external_ref,
        notes=data.notes,
    )


def reverse(session: Session, movement_id: uuid.UUID, data: ReversalIn) -> Posted:
    """Post the exact opposite of a movement and mark it reversed; lots still may not go negative."""
    original = session.scalar(
        sa.select(InventoryMovement).where(InventoryMovement.id == movement_id).with_for_update()
    )
    if original is None:
        raise NotFound(f"unknown movement {movement_id}", kind="movement", ref=str(movement_id))
    if original.movement_type not in REVERSIBLE:
        raise InvalidStateTransition(
            f"a {original.movement_type} movement cannot be reversed; post a return or a new execution instead"
        )
    if original.status != "posted" or original.reverses_movement_id is not None:
        raise InvalidStateTransition(
            f"movement {movement_id} is {original.status} and cannot be reversed again"
        )
    # the reason (required by ReversalIn) goes on every audit entry of the reversal
    audit.require_reason(session, data.reason, f"reversing movement {movement_id}")
    posted = _replay(session, original)
    items = {
        i.id: i
        for i in session.scalars(sa.select(Item).where(Item.id.in_([x.item_id for x in posted.lines])))
    }
    locs = {
        x.id: x
        for x in session.scalars(
            sa.select(Location).where(Location.id.in_([x.location_id for x in posted.lines]))
        )
    }
    lots = {
        x.id: x
        for x in session.scalars(
            sa.select(Lot).where(Lot.id.in_([r.lot_id for rows in posted.lot_rows for r in rows]))
        )
    }
    lines = [
        Line(
            items[ln.item_id],
            locs[ln.location_id],
            -ln.quantity_delta,
            [LotDelta(lots[r.lot_id], -r.quantity_delta) for r in rows],
            unit_cost=ln.unit_cost,
        )
        for ln, rows in zip(posted.lines, posted.lot_rows, strict=True)
    ]
    result = post_movement(
        session,
        original.movement_type,
        data.occurred_at or utcnow(),
        lines,
        vendor_id=original.vendor_id,
        customer_id=original.customer_id,
        notes=data.reason,
        reverses_movement_id=original.id,
    )
    original.status = "reversed"
    original.updated_at = sa.func.now()
    session.flush()
    return result
