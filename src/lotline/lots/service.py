"""Lot lifecycle: creation on receipt or production, lookup, status changes, on-hand by lot.

Invariants kept here:
- a lot belongs to exactly one item and its code is unique per item (spec invariant 1 is checked
  by the posting service against this);
- expiry defaults to (manufactured or received) + the item's shelf life;
- status changes follow STATUS_TRANSITIONS; a consumed lot is final, and only a lot without stock
  becomes consumed (refused otherwise: scrap the stock first).

Raises: NotFound, InvalidInput (lot code matching several items), InvalidStateTransition.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached

from lotline.audit import service as audit
from lotline.auth import signatures
from lotline.catalog import service as catalog
from lotline.db import pages, sql
from lotline.errors import DuplicateKey, InvalidInput, InvalidStateTransition, NotFound
from lotline.lots.allocation import Candidate
from lotline.lots.schemas import LotStatusChange, NewLot
from lotline.models import InventoryBalance, Item, Location, Lot
from lotline.types import fmt_qty
from lotline.vocab import LotStatus, SignedAction

STATUS_TRANSITIONS: dict[str, set[str]] = {
    LotStatus.ACTIVE: {LotStatus.QUARANTINE, LotStatus.BLOCKED, LotStatus.EXPIRED, LotStatus.CONSUMED},
    LotStatus.QUARANTINE: {LotStatus.ACTIVE, LotStatus.BLOCKED, LotStatus.EXPIRED, LotStatus.CONSUMED},
    LotStatus.BLOCKED: {LotStatus.ACTIVE, LotStatus.QUARANTINE, LotStatus.EXPIRED, LotStatus.CONSUMED},
    LotStatus.EXPIRED: {LotStatus.QUARANTINE, LotStatus.BLOCKED, LotStatus.CONSUMED},
    LotStatus.CONSUMED: set(),
}

# Statuses whose stock may be shipped or consumed by production.
RELEASED = LotStatus.ACTIVE


def create_lot(session: Session, item: Item, data: NewLot, *, received_at: datetime | None = None) -> Lot:
    """A new lot of ``item``; DuplicateKey if the item already has this lot code."""
    return create_lots(session, [(item, data)], received_at=received_at)[0]


def create_lots(
    session: Session, wanted: Sequence[tuple[Item, NewLot]], *, received_at: datetime | None = None
) -> list[Lot]:
    """New lots, one per (item, data), in order, inserted by one statement (``sql/insert_lots.sql``).

    DuplicateKey if an item already has one of the codes, or the same code is asked twice.
    """
    if not wanted:
        return []
    for item, _data in wanted:
        if not item.lot_tracked:
            raise InvalidInput(f"item {item.sku} is not lot-tracked; it has no lots", sku=item.sku)
    seen: set[tuple] = set()
    for item, data in wanted:
        if (item.id, data.lot_code) in seen:
            raise DuplicateKey(
                f"lot {data.lot_code!r} of item {item.sku} is given twice; use a new lot code",
                lot_code=data.lot_code,
                sku=item.sku,
            )
        seen.add((item.id, data.lot_code))
    lots = [_new_lot(item, data, received_at) for item, data in wanted]
    # all inserted or none (a code taken already): refused then with nothing written
    if not _insert_lots(session, lots):
        taken = set(
            session.execute(
                sa.select(Lot.item_id, Lot.lot_code).where(
                    sa.tuple_(Lot.item_id, Lot.lot_code).in_([(i.id, d.lot_code) for i, d in wanted])
                )
            ).all()
        )
        for item, data in wanted:
            if (item.id, data.lot_code) not in taken:
                continue
            raise DuplicateKey(
                f"item {item.sku} already has a lot {data.lot_code!r}; use a new lot code",
                lot_code=data.lot_code,
                sku=item.sku,
            )
        raise AssertionError("no lot was inserted, yet none of their codes is taken")
    _persistent(session, lots)
    return lots


def output_lot(session: Session, item: Item, data: NewLot) -> tuple[Lot, bool]:
    """The lot ``data.lot_code`` of ``item`` that production puts output into: (lot, created).

    Created (expiry from the item's shelf life) unless the item has it already, then read."""
    if not item.lot_tracked:
        raise InvalidInput(f"item {item.sku} is not lot-tracked; it has no lots", sku=item.sku)
    lot = _new_lot(item, data, None)
    if lot.id in _insert_lots(session, [lot]):
        _persistent(session, [lot])
        return lot, True
    return lots_of_item(session, item, [data.lot_code])[data.lot_code], False


def output_lots_insert(wanted: Sequence[tuple[Item, NewLot]]) -> tuple[tuple[str, dict], list[Lot]]:
    """``output_lot`` for several outputs, split so that the insert can ride in a caller's pipeline:
    the statement (all of the lots or none) and the lots it would insert; the caller sends it
    (flushed first) and gives the ids it returned to ``output_lots_inserted``."""
    for item, _data in wanted:
        if not item.lot_tracked:
            raise InvalidInput(f"item {item.sku} is not lot-tracked; it has no lots", sku=item.sku)
    lots = [_new_lot(item, data, None) for item, data in wanted]
    return (sql.load_sql("lotline.lots", "insert_lots"), _insert_params(lots)), lots


def output_lots_inserted(
    session: Session, wanted: Sequence[tuple[Item, NewLot]], lots: Sequence[Lot], inserted: set[uuid.UUID]
) -> list[tuple[Lot, bool]]:
    """(lot, created) per output as ``output_lot`` returns it, after ``output_lots_insert``'s
    statement inserted ``inserted``: all of them, or none (some code exists: then each output
    goes through ``output_lot``, made or read one by one)."""
    if inserted and all(x.id in inserted for x in lots):
        _persistent(session, lots)
        return [(lot, True) for lot in lots]
    return [output_lot(session, item, data) for item, data in wanted]


def _new_lot(item: Item, data: NewLot, received_at: datetime | None) -> Lot:
    expires_at = data.expires_at
    base = data.manufactured_at or received_at
    if expires_at is None and item.shelf_life_days and base is not None:
        expires_at = base + timedelta(days=item.shelf_life_days)
    return Lot(
        id=uuid.uuid4(),
        item_id=item.id,
        lot_code=data.lot_code,
        status=LotStatus.ACTIVE,
        manufactured_at=data.manufactured_at,
        received_at=received_at,
        expires_at=expires_at,
        vendor_lot_code=data.vendor_lot_code,
        notes=data.notes,
    )


def _insert_lots(session: Session, lots: Sequence[Lot]) -> set[uuid.UUID]:
    """Insert the lots in one statement (no ORM unit of work, no lookup first) unless a code is
    taken already; the ids inserted (all or none)."""
    session.flush()  # pending items (made in this transaction) before the statement names them
    rows = sql.rows(session, sql.load_sql("lotline.lots", "insert_lots"), _insert_params(lots), kind="tuple")
    return {r[0] for r in rows}


def _insert_params(lots: Sequence[Lot]) -> dict:
    return {
        "ids": [x.id for x in lots],
        "items": [x.item_id for x in lots],
        "codes": [x.lot_code for x in lots],
        "statuses": [x.status for x in lots],
        "manufactured": [x.manufactured_at for x in lots],
        "received": [x.received_at for x in lots],
        "expires": [x.expires_at for x in lots],
        "vendor_codes": [x.vendor_lot_code for x in lots],
        "notes": [x.notes for x in lots],
    }


def _persistent(session: Session, lots: Sequence[Lot]) -> None:
    """Inserted lots join the session as if loaded (created_at and updated_at load on access)."""
    for lot in lots:
        make_transient_to_detached(lot)
    session.add_all(lots)


def find_lot(session: Session, ref: str | uuid.UUID, *, item_ref: str | None = None) -> Lot:
    """A lot by UUID, or by code (plus the item's SKU or id when the code is used by several items)."""
    lot_id = catalog.as_uuid(ref)
    if lot_id is not None:
        lot = session.get(Lot, lot_id)
        if lot is not None:
            return lot
    query = sa.select(Lot).where(Lot.lot_code == str(ref))
    if item_ref is not None:
        item = catalog.resolve(session, Item, item_ref)
        query = query.where(Lot.item_id == item.id)
    lots = session.scalars(query).all()
    if not lots:
        suffix = f" of item {item_ref}" if item_ref else ""
        raise NotFound(f"unknown lot {str(ref)!r}{suffix}", kind="lot", ref=str(ref))
    if len(lots) > 1:
        skus = session.scalars(sa.select(Item.sku).where(Item.id.in_([x.item_id for x in lots]))).all()
        raise InvalidInput(
            f"lot code {str(ref)!r} exists for several items ({', '.join(sorted(skus))}); name the item SKU too",
            lot_code=str(ref),
        )
    return lots[0]


def lots_of_item(session: Session, item: Item, codes: Sequence[str]) -> dict[str, Lot]:
    """Lots of one item by code, in one query."""
    rows = session.scalars(sa.select(Lot).where(Lot.item_id == item.id, Lot.lot_code.in_(list(codes)))).all()
    return {lot.lot_code: lot for lot in rows}


def change_status(session: Session, lot: Lot, change: LotStatusChange, *, sign_release: bool = True) -> Lot:
    """Move a lot to a new status along STATUS_TRANSITIONS; InvalidStateTransition otherwise.

    InvalidInput without a reason; a release (quarantine/blocked -> active) needs the actor's
    electronic signature (SignatureRefused for a wrong password) unless ``sign_release`` is False
    (a recall's restock action, whose decision is the signed recall itself)."""
    # Lock the lot so a concurrent shipment that checked its status (FOR SHARE) finishes first.
    session.execute(sa.select(Lot.id).where(Lot.id == lot.id).with_for_update())
    session.refresh(lot)
    if change.status == lot.status:
        return lot
    if change.status not in STATUS_TRANSITIONS[lot.status]:
        allowed = ", ".join(sorted(STATUS_TRANSITIONS[lot.status])) or "none"
        raise InvalidStateTransition(
            f"lot {lot.lot_code} cannot go from {lot.status} to {change.status} (allowed: {allowed})",
            lot_code=lot.lot_code,
            status=lot.status,
        )
    if change.status == LotStatus.CONSUMED:
        # Consumed is final (no movement adds to it again), so stock on hand would be frozen in
        # the ledger for ever: it must be used, shipped or scrapped first.
        stocked = session.execute(
            sa.select(Location.code, InventoryBalance.quantity)
            .join(Location, Location.id == InventoryBalance.location_id)
            .where(InventoryBalance.lot_id == lot.id, InventoryBalance.quantity != 0)
            .order_by(Location.code)
        ).all()
        if stocked:
            where = ", ".join(f"{fmt_qty(q)} at {code}" for code, q in stocked)
            raise InvalidStateTransition(
                f"lot {lot.lot_code} still has stock ({where}); consume, ship or scrap it before "
                "marking the lot consumed",
                lot_code=lot.lot_code,
                status=lot.status,
            )
    what = f"changing lot {lot.lot_code} from {lot.status} to {change.status}"
    audit.require_reason(session, change.reason, what)
    release = change.status == RELEASED and lot.status in (LotStatus.QUARANTINE, LotStatus.BLOCKED) and sign_release
    signature = signatures.require_signature(change.signature, SignedAction.LOT_RELEASE, what) if release else None
    lot.status = change.status
    if change.reason:
        lot.notes = f"{lot.notes}\n{change.reason}" if lot.notes else change.reason
    lot.updated_at = sa.func.now()
    session.flush()
    if signature is not None:
        signatures.sign(session, signature, SignedAction.LOT_RELEASE, "lots", lot.id)
    return lot


def released_candidates(
    session: Session, item: Item, location: Location, at: datetime, *, lock: bool
) -> list[Candidate]:
    """Stock of ``item`` at ``location`` in lots that may ship or be consumed at ``at``."""
    query = (
        sa.select(
            InventoryBalance.lot_id, Lot.lot_code, InventoryBalance.quantity, Lot.expires_at, Lot.received_at
        )
        .join(Lot, Lot.id == InventoryBalance.lot_id)
        .where(
            InventoryBalance.item_id == item.id,
            InventoryBalance.location_id == location.id,
            InventoryBalance.quantity > 0,
            Lot.status == RELEASED,
            sa.or_(Lot.expires_at.is_(None), Lot.expires_at > at),
        )
        .order_by(InventoryBalance.lot_id)
    )
    if lock:
        # Lock balances in lot order, the same order the posting service uses.
        query = query.with_for_update(of=InventoryBalance)
    return [
        Candidate(r.lot_id, r.lot_code, r.quantity, r.expires_at, r.received_at)
        for r in session.execute(query)
    ]


def on_hand(
    session: Session,
    *,
    item_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    lot_id: uuid.UUID | None = None,
    include_zero: bool = False,
) -> list[dict]:
    """On-hand by item, location and lot (with lot status and expiry), from the balance table."""
    query = _on_hand_query(item_id=item_id, location_id=location_id, lot_id=lot_id, include_zero=include_zero)
    return [dict(r._mapping) for r in session.execute(query)]


def on_hand_page(
    session: Session,
    *,
    item_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    lot_id: uuid.UUID | None = None,
    after: Sequence[str] | None,
    limit: int,
) -> pages.Page:
    """One page of ``on_hand`` (rows as dicts), by SKU, lot code and location code."""
    query = _on_hand_query(item_id=item_id, location_id=location_id, lot_id=lot_id, include_zero=False)
    keys = [Item.sku, sa.func.coalesce(Lot.lot_code, ""), Location.code]
    got = pages.page(session, query, keys, lambda r: (r.sku, r.lot_code or "", r.location), after=after, limit=limit)
    return pages.Page([dict(r._mapping) for r in got.rows], got.after)


def _on_hand_query(*, item_id, location_id, lot_id, include_zero: bool) -> sa.Select:
    query = (
        sa.select(
            Item.sku,
            Item.name.label("item_name"),
            Item.uom,
            Location.code.label("location"),
            Location.kind.label("location_kind"),
            Lot.lot_code,
            Lot.status.label("lot_status"),
            Lot.expires_at,
            InventoryBalance.quantity,
            InventoryBalance.item_id,
            InventoryBalance.location_id,
            InventoryBalance.lot_id,
        )
        .join(Item, Item.id == InventoryBalance.item_id)
        .join(Location, Location.id == InventoryBalance.location_id)
        .outerjoin(Lot, Lot.id == InventoryBalance.lot_id)
        .order_by(Item.sku, Lot.lot_code.nulls_first(), Location.code)
    )
    if not include_zero:
        query = query.where(InventoryBalance.quantity != 0)
    if item_id:
        query = query.where(InventoryBalance.item_id == item_id)
    if location_id:
        query = query.where(InventoryBalance.location_id == location_id)
    if lot_id:
        query = query.where(InventoryBalance.lot_id == lot_id)
    return query


def lot_row(lot: Lot, sku: str) -> dict:
    """A lot as a plain dict for people and scripts (CLI tables/--json, API bodies)."""
    return {
        "id": lot.id,
        "item_id": lot.item_id,
        "sku": sku,
        "lot_code": lot.lot_code,
        "status": lot.status,
        "vendor_lot_code": lot.vendor_lot_code,
        "received_at": lot.received_at,
        "manufactured_at": lot.manufactured_at,
        "expires_at": lot.expires_at,
        "notes": lot.notes,
    }


def lot_quantity(session: Session, lot_id: uuid.UUID) -> Decimal:
    # an aggregate always returns exactly one row
    return session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(InventoryBalance.quantity), 0)).where(
            InventoryBalance.lot_id == lot_id
        )
    ).scalar_one()


def list_lots(
    session: Session, *, item_id: uuid.UUID | None = None, status: str | None = None, limit: int = 500
):
    query = (
        sa.select(Lot, Item.sku)
        .join(Item, Item.id == Lot.item_id)
        .order_by(Item.sku, Lot.lot_code)
        .limit(limit)
    )
    if item_id:
        query = query.where(Lot.item_id == item_id)
    if status:
        query = query.where(Lot.status == status)
    return session.execute(query).all()


def lots_page(
    session: Session, *, item_id: uuid.UUID | None = None, status: str | None = None,
    after: Sequence[str] | None, limit: int,
) -> pages.Page:
    """One page of (lot, sku) rows by SKU and lot code."""
    query = sa.select(Lot, Item.sku).join(Item, Item.id == Lot.item_id)
    if item_id:
        query = query.where(Lot.item_id == item_id)
    if status:
        query = query.where(Lot.status == status)
    return pages.page(session, query, [Item.sku, Lot.lot_code], lambda r: (r[1], r[0].lot_code), after=after,
                      limit=limit)


def expire_due(session: Session, now: datetime) -> int:
    """Mark active/quarantined lots whose expiry has passed as expired (one statement)."""
    # a DML statement's result is a CursorResult (Session.execute is typed with the base Result)
    result = cast(
        "sa.CursorResult[Any]",
        session.execute(
            sa.update(Lot)
            .where(Lot.status.in_([LotStatus.ACTIVE, LotStatus.QUARANTINE]), Lot.expires_at <= now)
            .values(status=LotStatus.EXPIRED, updated_at=sa.func.now())
        ),
    )
    return result.rowcount
