"""Posting inventory movements: the one place the lot rules live.

``post_movement`` takes fully resolved lines and, inside the caller's transaction:
- refuses a replayed ``external_ref`` by returning the original movement (idempotency);
- checks every line: item uom, sign for the movement type, lot allocation (lot rows of a lot-tracked
  item sum exactly to the line, same sign, same uom; untracked items carry none — spec invariant 2),
  each lot belongs to the line's item (invariant 1), transfers keep the lot and create nothing;
- locks the lots it checks (FOR SHARE, by id) and refuses shipping or consuming stock of a lot that
  is not active or has expired at the movement's time; non-active stock may only move to quarantine
  or scrap locations;
- locks the balance rows it changes (FOR UPDATE, ordered by item, location, lot — the same order for
  every posting, so concurrent postings queue instead of deadlocking), refuses any lot going below
  zero at any location, then writes movement, lines, lot rows and balances.
Any refusal raises before anything is written; the caller's transaction rolls back the rest.

The public use cases (receive, transfer, adjust, scrap, return_goods, reverse) build lines from
user input; production and sales call ``post_movement`` the same way.

Raises: NotFound, InvalidInput, AllocationMismatch, WrongLotItem, LotNotReleased,
InsufficientQuantity, DuplicateKey, InvalidStateTransition.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.audit import service as audit
from lotline.catalog import service as catalog
from lotline.errors import (
    AllocationMismatch,
    DuplicateKey,
    InsufficientQuantity,
    InvalidInput,
    InvalidStateTransition,
    LotNotReleased,
    NotFound,
    WrongLotItem,
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
from lotline.lots.allocation import allocate
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
from lotline.types import fmt_qty, utcnow

# +1: every line adds stock; -1: every line removes stock; 0: either (checked elsewhere).
SIGN = {
    "receipt": 1,
    "production_produce": 1,
    "return": 1,
    "shipment": -1,
    "production_consume": -1,
    "scrap": -1,
    "transfer": 0,
    "adjustment": 0,
}
# Movement types that hand stock to a customer or a batch: only released, unexpired lots.
CONSUMING = {"shipment", "production_consume"}
# Movement types that may not add to a consumed lot.
CREATING = {"receipt", "production_produce"}
# Locations a lot that is not active may still be moved to.
HOLDING_KINDS = {"quarantine", "scrap"}
REVERSIBLE = {"receipt", "transfer", "adjustment", "scrap", "return"}
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass
class LotDelta:
    lot: Lot
    quantity_delta: Decimal


@dataclass
class Line:
    item: Item
    location: Location
    quantity_delta: Decimal
    lots: list[LotDelta] = field(default_factory=list)
    unit_cost: Decimal | None = None
    uom: str | None = None  # defaults to the item's stocking uom


@dataclass
class Posted:
    movement: InventoryMovement
    lines: list[InventoryMovementLine]
    # lot rows per line, in line order
    lot_rows: list[list[InventoryMovementLot]]
    replayed: bool = False


def _label(n: int, line: Line) -> str:
    return f"line {n} ({line.item.sku} at {line.location.code})"


def _check_occurred_at(occurred_at: datetime) -> None:
    if occurred_at > utcnow() + FUTURE_TOLERANCE:
        raise InvalidInput(
            f"occurred_at {occurred_at.isoformat()} is in the future; post movements when they happen"
        )


def _replay(session: Session, movement: InventoryMovement) -> Posted:
    lines = session.scalars(
        sa.select(InventoryMovementLine)
        .where(InventoryMovementLine.movement_id == movement.id)
        .order_by(InventoryMovementLine.line_no)
    ).all()
    rows = session.scalars(
        sa.select(InventoryMovementLot)
        .where(InventoryMovementLot.inventory_movement_line_id.in_([x.id for x in lines]))
        .order_by(InventoryMovementLot.created_at, InventoryMovementLot.id)
    ).all()
    by_line: dict[uuid.UUID, list[InventoryMovementLot]] = defaultdict(list)
    for r in rows:
        by_line[r.inventory_movement_line_id].append(r)
    return Posted(movement, list(lines), [by_line[x.id] for x in lines], replayed=True)


def lock_external_ref(session: Session, external_ref: str, *, kind: str) -> None:
    """Serialise postings that share an external reference (advisory lock held until commit)."""
    session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(f"{kind}:{external_ref}", 0)))
    )


def already_posted(session: Session, external_ref: str, movement_type: str) -> Posted | None:
    """The movement posted earlier under ``external_ref`` (idempotent replay), or None."""
    lock_external_ref(session, external_ref, kind="movement")
    existing = session.scalar(
        sa.select(InventoryMovement).where(InventoryMovement.external_ref == external_ref)
    )
    if existing is None:
        return None
    if existing.movement_type != movement_type:
        raise DuplicateKey(
            f"external reference {external_ref!r} was already used by a {existing.movement_type} movement",
            external_ref=external_ref,
        )
    return _replay(session, existing)


def _validate(movement_type: str, lines: Sequence[Line]) -> None:
    sign = SIGN[movement_type]
    if not lines:
        raise InvalidInput("a movement needs at least one line")
    transfer_net: dict[tuple, Decimal] = defaultdict(Decimal)
    for n, line in enumerate(lines, start=1):
        label = _label(n, line)
        q = line.quantity_delta
        if q == 0:
            raise InvalidInput(f"{label}: quantity must not be zero")
        if line.uom is not None and line.uom != line.item.uom:
            raise InvalidInput(
                f"{label}: uom {line.uom!r} differs from the item's stocking uom {line.item.uom!r}"
            )
        if sign and (q > 0) != (sign > 0):
            verb = "add" if sign > 0 else "remove"
            raise InvalidInput(f"{label}: every {movement_type} line must {verb} stock, got {q}")
        if not line.item.lot_tracked:
            if line.lots:
                raise AllocationMismatch(
                    f"{label}: item {line.item.sku} is not lot-tracked and takes no lots"
                )
            transfer_net[(line.item.id, None)] += q
            continue
        if not line.lots:
            raise AllocationMismatch(f"{label}: item {line.item.sku} is lot-tracked; say which lots")
        seen: set[uuid.UUID] = set()
        total = Decimal(0)
        for ld in line.lots:
            lot = ld.lot
            if lot.item_id != line.item.id:
                raise WrongLotItem(
                    f"{label}: lot {lot.lot_code} belongs to another item, not {line.item.sku}",
                    lot_code=lot.lot_code,
                    sku=line.item.sku,
                )
            if lot.id in seen:
                raise AllocationMismatch(f"{label}: lot {lot.lot_code} is listed twice")
            seen.add(lot.id)
            if ld.quantity_delta == 0 or (ld.quantity_delta > 0) != (q > 0):
                raise AllocationMismatch(
                    f"{label}: lot {lot.lot_code} quantity {ld.quantity_delta} must have the line's sign and not be zero"
                )
            total += ld.quantity_delta
            transfer_net[(line.item.id, lot.id)] += ld.quantity_delta
        if total != q:
            raise AllocationMismatch(
                f"{label}: lot quantities sum to {fmt_qty(total)}, the line's quantity is {fmt_qty(q)}",
                lots_total=str(total),
                line_quantity=str(q),
            )
    if movement_type == "transfer":
        for (_item, _lot), net in transfer_net.items():
            if net != 0:
                raise InvalidInput(
                    "a transfer must take from one place exactly what it puts in another (per item and lot)"
                )


def _lock_and_check_lots(
    session: Session, movement_type: str, occurred_at: datetime, lines: Sequence[Line], *, check_release: bool
) -> None:
    lot_ids = sorted({ld.lot.id for line in lines for ld in line.lots})
    if not lot_ids:
        return
    # FOR SHARE in id order: a concurrent status change (FOR UPDATE) waits for us, or we see its result.
    current = {
        r.id: r
        for r in session.execute(
            sa.select(Lot.id, Lot.status, Lot.expires_at)
            .where(Lot.id.in_(lot_ids))
            .order_by(Lot.id)
            .with_for_update(read=True)
        )
    }
    if not check_release:
        return
    for n, line in enumerate(lines, start=1):
        for ld in line.lots:
            state = current[ld.lot.id]
            code = f"lot {ld.lot.lot_code} of {line.item.sku}"
            if ld.quantity_delta < 0 and movement_type in CONSUMING:
                if state.status != lots_service.RELEASED:
                    raise LotNotReleased(
                        f"{_label(n, line)}: {code} is {state.status}; it cannot be shipped or consumed",
                        lot_code=ld.lot.lot_code,
                        status=state.status,
                    )
                if state.expires_at is not None and state.expires_at <= occurred_at:
                    raise LotNotReleased(
                        f"{_label(n, line)}: {code} expired on {state.expires_at:%Y-%m-%d}; it cannot be shipped or consumed",
                        lot_code=ld.lot.lot_code,
                        status="expired",
                    )
            if (
                ld.quantity_delta > 0
                and movement_type == "transfer"
                and state.status != lots_service.RELEASED
                and line.location.kind not in HOLDING_KINDS
            ):
                raise LotNotReleased(
                    f"{_label(n, line)}: {code} is {state.status}; it can only move to a quarantine or scrap location",
                    lot_code=ld.lot.lot_code,
                    status=state.status,
                )
            if ld.quantity_delta > 0 and movement_type in CREATING and state.status != lots_service.RELEASED:
                raise LotNotReleased(
                    f"{_label(n, line)}: {code} is {state.status}; new stock cannot be added to it",
                    lot_code=ld.lot.lot_code,
                    status=state.status,
                )


_LOCK_BALANCES = sa.text(
    """
    SELECT b.item_id, b.location_id, b.lot_id, b.quantity
      FROM inventory_balances b
      JOIN unnest(CAST(:items AS uuid[]), CAST(:locations AS uuid[]), CAST(:lots AS uuid[]))
           AS k(item_id, location_id, lot_id)
        ON b.item_id = k.item_id AND b.location_id = k.location_id
       AND b.lot_id IS NOT DISTINCT FROM k.lot_id
     ORDER BY b.item_id, b.location_id, b.lot_id
       FOR UPDATE OF b
    """
)

_UPDATE_BALANCES = sa.text(
    """
    UPDATE inventory_balances b
       SET quantity = b.quantity + k.quantity, updated_at = now()
      FROM unnest(CAST(:items AS uuid[]), CAST(:locations AS uuid[]), CAST(:lots AS uuid[]),
                  CAST(:quantities AS numeric[])) AS k(item_id, location_id, lot_id, quantity)
     WHERE b.item_id = k.item_id AND b.location_id = k.location_id
       AND b.lot_id IS NOT DISTINCT FROM k.lot_id
    """
)

# Keys that had no balance row when locked. ON CONFLICT covers a row a concurrent posting inserted
# meanwhile. (A CHECK is evaluated on the proposed row before arbitration, so rows already locked
# and possibly going down are updated by _UPDATE_BALANCES instead.)
_INSERT_BALANCES = sa.text(
    """
    INSERT INTO inventory_balances (item_id, location_id, lot_id, quantity, updated_at)
    SELECT k.item_id, k.location_id, k.lot_id, k.quantity, now()
      FROM unnest(CAST(:items AS uuid[]), CAST(:locations AS uuid[]), CAST(:lots AS uuid[]),
                  CAST(:quantities AS numeric[])) AS k(item_id, location_id, lot_id, quantity)
     ORDER BY k.item_id, k.location_id, k.lot_id
    ON CONFLICT ON CONSTRAINT inventory_balances_key
    DO UPDATE SET quantity = inventory_balances.quantity + EXCLUDED.quantity, updated_at = now()
    """
)


def _apply_balances(session: Session, lines: Sequence[Line]) -> None:
    deltas: dict[tuple, Decimal] = defaultdict(Decimal)
    first_line: dict[tuple, tuple[int, Line, Lot | None]] = {}
    for n, line in enumerate(lines, start=1):
        parts = [(ld.lot, ld.quantity_delta) for ld in line.lots] or [(None, line.quantity_delta)]
        for lot, q in parts:
            key = (line.item.id, line.location.id, lot.id if lot else None)
            deltas[key] += q
            if q < 0:
                first_line.setdefault(key, (n, line, lot))
    keys = list(deltas)
    params = {
        "items": [k[0] for k in keys],
        "locations": [k[1] for k in keys],
        "lots": [k[2] for k in keys],
    }
    current = {
        (r.item_id, r.location_id, r.lot_id): r.quantity for r in session.execute(_LOCK_BALANCES, params)
    }
    for key, delta in deltas.items():
        if key[2] is None or delta >= 0:
            continue  # untracked items may go negative (flagged by KPIs); lots never
        have = current.get(key, Decimal(0))
        if have + delta < 0:
            n, line, lot = first_line[key]
            raise InsufficientQuantity(
                f"{_label(n, line)}: lot {lot.lot_code} of {line.item.sku} has {fmt_qty(have)} {line.item.uom} "
                f"at {line.location.code}, {fmt_qty(-delta)} requested",
                lot_code=lot.lot_code,
                sku=line.item.sku,
                location=line.location.code,
                available=str(have),
                requested=str(-delta),
            )
    for statement, subset in (
        (_UPDATE_BALANCES, [k for k in keys if k in current]),
        (_INSERT_BALANCES, [k for k in keys if k not in current]),
    ):
        if subset:
            session.execute(
                statement,
                {
                    "items": [k[0] for k in subset],
                    "locations": [k[1] for k in subset],
                    "lots": [k[2] for k in subset],
                    "quantities": [deltas[k] for k in subset],
                },
            )


def post_movement(
    session: Session,
    movement_type: str,
    occurred_at: datetime,
    lines: Sequence[Line],
    *,
    vendor_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    external_ref: str | None = None,
    notes: str | None = None,
    reverses_movement_id: uuid.UUID | None = None,
) -> Posted:
    """Validate and post one movement with its lines, lot rows and balances (see module doc)."""
    if movement_type not in SIGN:
        raise InvalidInput(f"unknown movement type {movement_type!r}")
    _check_occurred_at(occurred_at)
    if external_ref is not None and (existing := already_posted(session, external_ref, movement_type)):
        return existing
    reversal = reverses_movement_id is not None
    _validate("adjustment" if reversal else movement_type, lines)
    _lock_and_check_lots(session, movement_type, occurred_at, lines, check_release=not reversal)
    _apply_balances(session, lines)

    movement = InventoryMovement(
        movement_type=movement_type,
        occurred_at=occurred_at,
        external_ref=external_ref,
        vendor_id=vendor_id,
        customer_id=customer_id,
        notes=notes,
        reverses_movement_id=reverses_movement_id,
    )
    session.add(movement)
    session.flush()
    db_lines = [
        InventoryMovementLine(
            id=uuid.uuid4(),
            movement_id=movement.id,
            line_no=n,
            item_id=line.item.id,
            location_id=line.location.id,
            uom=line.item.uom,
            quantity_delta=line.quantity_delta,
            unit_cost=line.unit_cost,
            occurred_at=movement.occurred_at,
            movement_type=movement.movement_type,
        )
        for n, line in enumerate(lines, start=1)
    ]
    session.add_all(db_lines)
    lot_rows = [
        [
            InventoryMovementLot(
                id=uuid.uuid4(),
                inventory_movement_line_id=db_line.id,
                lot_id=ld.lot.id,
                uom=line.item.uom,
                quantity_delta=ld.quantity_delta,
            )
            for ld in line.lots
        ]
        for db_line, line in zip(db_lines, lines, strict=True)
    ]
    session.flush()
    session.add_all([r for rows in lot_rows for r in rows])
    session.flush()
    return Posted(movement, db_lines, lot_rows)


# --- use cases -----------------------------------------------------------------------------------


def resolve_lot_refs(session: Session, item: Item, refs: Sequence[str], *, context: str) -> dict[str, Lot]:
    """Lots by code (within ``item``) or UUID (any item: the posting checks it), in one query."""
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
    return out


_LOCK_STOCK = sa.text(
    """
    SELECT 1
      FROM inventory_balances b
      JOIN unnest(CAST(:items AS uuid[]), CAST(:locations AS uuid[])) AS k(item_id, location_id)
        ON b.item_id = k.item_id AND b.location_id = k.location_id
     ORDER BY b.item_id, b.location_id, b.lot_id
       FOR UPDATE OF b
    """
)


def lock_stock(session: Session, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Lock the balance rows of several (item, location) pairs up front, in the posting order.

    Multi-line postings that allocate line by line (``outbound_lots``) would otherwise lock each
    line's stock in line order, and two postings listing the same items in opposite orders deadlock.
    """
    keys = sorted(set(pairs))
    if keys:
        session.execute(_LOCK_STOCK, {"items": [k[0] for k in keys], "locations": [k[1] for k in keys]})


def outbound_lots(
    session: Session,
    item: Item,
    location: Location,
    quantity: Decimal,
    lots: Sequence[LotQty] | None,
    at: datetime,
    *,
    context: str,
) -> list[LotDelta]:
    """Negative lot deltas for taking ``quantity`` of ``item`` from ``location``.

    Named lots are used as given; otherwise released lots are allocated FEFO (locked first).
    """
    if not item.lot_tracked:
        if lots:
            raise AllocationMismatch(f"{context}: item {item.sku} is not lot-tracked and takes no lots")
        return []
    if lots:
        found = resolve_lot_refs(session, item, [x.lot for x in lots], context=context)
        return [LotDelta(found[x.lot], -x.quantity) for x in lots]
    candidates = lots_service.released_candidates(session, item, location, at, lock=True)
    chosen = allocate(quantity, candidates, what=f"{item.sku} at {location.code} ({context})")
    lot_by_id = {
        x.id: x for x in session.scalars(sa.select(Lot).where(Lot.id.in_([a.lot_id for a in chosen])))
    }
    return [LotDelta(lot_by_id[a.lot_id], -a.quantity) for a in chosen]


def receive(session: Session, data: ReceiptIn) -> Posted:
    """Receive goods from a vendor into new lots (expiry defaulted from the item's shelf life)."""
    vendor = catalog.resolve(session, Vendor, data.vendor)
    occurred_at = data.occurred_at or utcnow()
    # Checked before lots are created: a replayed receipt must not fail on its own lot codes.
    if data.external_ref and (existing := already_posted(session, data.external_ref, "receipt")):
        return existing
    items = catalog.resolve_many(session, Item, [x.item for x in data.lines], context="receipt")
    locations = catalog.resolve_many(session, Location, [x.location for x in data.lines], context="receipt")
    lines = []
    for n, ln in enumerate(data.lines, start=1):
        item, location = items[ln.item], locations[ln.location]
        if ln.lots and not item.lot_tracked:
            raise AllocationMismatch(f"line {n} ({item.sku}): item is not lot-tracked and takes no lots")
        if item.lot_tracked and not ln.lots:
            raise AllocationMismatch(
                f"line {n} ({item.sku}): item is lot-tracked; give the lot code(s) received"
            )
        lot_deltas = [
            LotDelta(
                lots_service.create_lot(session, item, lot_in, received_at=occurred_at),
                lot_in.quantity,
            )
            for lot_in in ln.lots
        ]
        lines.append(Line(item, location, ln.quantity, lot_deltas, unit_cost=ln.unit_cost))
    return post_movement(
        session,
        "receipt",
        occurred_at,
        lines,
        vendor_id=vendor.id,
        external_ref=data.external_ref,
        notes=data.notes,
    )


def transfer(session: Session, data: TransferIn) -> Posted:
    """Move stock between locations; lots keep their identity."""
    item = catalog.resolve(session, Item, data.item)
    src = catalog.resolve(session, Location, data.from_location)
    dst = catalog.resolve(session, Location, data.to_location)
    if src.id == dst.id:
        raise InvalidInput(f"transfer from {src.code} to itself")
    occurred_at = data.occurred_at or utcnow()
    taken = outbound_lots(session, item, src, data.quantity, data.lots, occurred_at, context="transfer")
    lines = [
        Line(item, src, -data.quantity, taken),
        Line(item, dst, data.quantity, [LotDelta(x.lot, -x.quantity_delta) for x in taken]),
    ]
    return post_movement(
        session, "transfer", occurred_at, lines, external_ref=data.external_ref, notes=data.notes
    )


def adjust(session: Session, data: AdjustmentIn) -> Posted:
    """Count correction: signed quantities into or out of existing lots."""
    items = catalog.resolve_many(session, Item, [x.item for x in data.lines], context="adjustment")
    locations = catalog.resolve_many(
        session, Location, [x.location for x in data.lines], context="adjustment"
    )
    lines = []
    for n, ln in enumerate(data.lines, start=1):
        item = items[ln.item]
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
    item = catalog.resolve(session, Item, data.item)
    location = catalog.resolve(session, Location, data.location)
    occurred_at = data.occurred_at or utcnow()
    if item.lot_tracked and not data.lots:
        raise AllocationMismatch(f"scrap of {item.sku}: item is lot-tracked; say which lots are scrapped")
    taken = outbound_lots(session, item, location, data.quantity, data.lots, occurred_at, context="scrap")
    return post_movement(
        session,
        "scrap",
        occurred_at,
        [Line(item, location, -data.quantity, taken)],
        external_ref=data.external_ref,
        notes=data.notes,
    )


def return_goods(session: Session, data: ReturnIn) -> Posted:
    """Goods coming back from a customer, into the lots they were shipped from."""
    customer = catalog.resolve(session, Customer, data.customer)
    items = catalog.resolve_many(session, Item, [x.item for x in data.lines], context="return")
    locations = catalog.resolve_many(session, Location, [x.location for x in data.lines], context="return")
    lines = []
    for n, ln in enumerate(data.lines, start=1):
        item = items[ln.item]
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


def get_movement(session: Session, movement_id: uuid.UUID) -> Posted:
    movement = session.get(InventoryMovement, movement_id)
    if movement is None:
        raise NotFound(f"unknown movement {movement_id}", kind="movement", ref=str(movement_id))
    posted = _replay(session, movement)
    posted.replayed = False
    return posted
