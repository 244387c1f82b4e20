"""The lot rules a posting is checked against before anything is written (balances aside).

- ``validate``: every line's uom and sign for the movement type; lot rows of a lot-tracked item sum
  exactly to the line, with its sign (spec invariant 2); untracked items carry none; each lot
  belongs to the line's item (invariant 1); transfers net to zero per item and lot.
- ``no_lots_on_untracked``: the one rule (and one error, AllocationMismatch) for lot rows given
  on an item that is not lot-tracked, wherever the lots are named (receipt, adjustment, return,
  transfer, scrap, shipment, consumption) — checked before any lot reference is resolved.
- ``lock_and_check_lots``: locks the lots FOR SHARE in id order and refuses shipping or consuming
  stock of a lot that is not active or has expired at the movement's time; non-active stock may
  only move to quarantine or scrap locations; nothing — not even a reversal — adds stock to a
  consumed lot (consumed is final: a lot is only set consumed once it has no stock).
- ``check_returns``: a customer returns at most what they were shipped of a lot up to the
  return's time, less what they already returned (net of reversed returns).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.db import sql
from lotline.errors import (
    AllocationMismatch,
    InvalidInput,
    LotNotReleased,
    OverReturn,
    WrongLotItem,
)
from lotline.inventory import held
from lotline.lots import service as lots_service
from lotline.models import Customer
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
# Movement types that may not add to a lot that is not released.
CREATING = {"receipt", "production_produce"}
# Locations a lot that is not active may still be moved to.
HOLDING_KINDS = {"quarantine", "scrap"}
FUTURE_TOLERANCE = timedelta(minutes=5)


def label(n: int, line) -> str:
    return f"line {n} ({line.item.sku} at {line.location.code})"


def check_occurred_at(occurred_at: datetime) -> None:
    if occurred_at > utcnow() + FUTURE_TOLERANCE:
        raise InvalidInput(
            f"occurred_at {occurred_at.isoformat()} is in the future; post movements when they happen"
        )


def no_lots_on_untracked(item, lots, context: str) -> None:
    """AllocationMismatch when lot rows are given for an item that is not lot-tracked."""
    if lots and not item.lot_tracked:
        raise AllocationMismatch(f"{context}: item {item.sku} is not lot-tracked and takes no lots", sku=item.sku)


def _check_line_lots(where: str, line: Any, q: Decimal, transfer_net: dict[tuple, Decimal]) -> None:
    """The lots of a lot-tracked line: of its item, each once, with the line's sign, summing to it."""
    if not line.lots:
        raise AllocationMismatch(f"{where}: item {line.item.sku} is lot-tracked; say which lots")
    seen: set[uuid.UUID] = set()
    total = Decimal(0)
    for ld in line.lots:
        lot = ld.lot
        if lot.item_id != line.item.id:
            raise WrongLotItem(
                f"{where}: lot {lot.lot_code} belongs to another item, not {line.item.sku}",
                lot_code=lot.lot_code,
                sku=line.item.sku,
            )
        if lot.id in seen:
            raise AllocationMismatch(f"{where}: lot {lot.lot_code} is listed twice")
        seen.add(lot.id)
        if ld.quantity_delta == 0 or (ld.quantity_delta > 0) != (q > 0):
            raise AllocationMismatch(
                f"{where}: lot {lot.lot_code} quantity {ld.quantity_delta} must have the line's sign and not be zero"
            )
        total += ld.quantity_delta
        transfer_net[(line.item.id, lot.id)] += ld.quantity_delta
    if total != q:
        raise AllocationMismatch(
            f"{where}: lot quantities sum to {fmt_qty(total)}, the line's quantity is {fmt_qty(q)}",
            lots_total=str(total),
            line_quantity=str(q),
        )


def validate(movement_type: str, lines: Sequence) -> None:
    sign = SIGN[movement_type]
    if not lines:
        raise InvalidInput("a movement needs at least one line")
    transfer_net: dict[tuple, Decimal] = defaultdict(Decimal)
    for n, line in enumerate(lines, start=1):
        where = label(n, line)
        q = line.quantity_delta
        if q == 0:
            raise InvalidInput(f"{where}: quantity must not be zero")
        if line.uom is not None and line.uom != line.item.uom:
            raise InvalidInput(
                f"{where}: uom {line.uom!r} differs from the item's stocking uom {line.item.uom!r}"
            )
        if sign and (q > 0) != (sign > 0):
            verb = "add" if sign > 0 else "remove"
            raise InvalidInput(f"{where}: every {movement_type} line must {verb} stock, got {q}")
        if not line.item.lot_tracked:
            no_lots_on_untracked(line.item, line.lots, where)
            transfer_net[(line.item.id, None)] += q
            continue
        _check_line_lots(where, line, q, transfer_net)
    if movement_type == "transfer":
        for (_item, _lot), net in transfer_net.items():
            if net != 0:
                raise InvalidInput(
                    "a transfer must take from one place exactly what it puts in another (per item and lot)"
                )


# (plain SQL, not an ORM query: every posting that names or picks lots runs it)
_SHARE_LOTS = "SELECT id, status, expires_at FROM lots WHERE id = ANY(%(ids)s::uuid[]) ORDER BY id FOR SHARE"


def lock_lots(session: Session, lot_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, held.LotState]:
    """Status and expiry of lots, locked FOR SHARE in id order (once per transaction: ``held``)."""
    # (as an ORM query's autoflush would: a lot changed in this transaction is read as it is now,
    # and the flush forgets the held lot states first)
    session.flush()
    known = held.of(session)
    missing = sorted({x for x in lot_ids if x not in known.lots})
    if missing:
        # FOR SHARE in id order: a concurrent status change (FOR UPDATE) waits for us, or we see its result.
        for lot_id, status, expires_at in sql.rows(session, _SHARE_LOTS, {"ids": missing}, kind="tuple"):
            known.lots[lot_id] = held.LotState(status, expires_at)
    return {x: known.lots[x] for x in lot_ids}


def lock_and_check_lots(
    session: Session, movement_type: str, occurred_at: datetime, lines: Sequence, *, check_release: bool
) -> None:
    lot_ids = sorted({ld.lot.id for line in lines for ld in line.lots})
    if not lot_ids:
        return
    check_lots(movement_type, occurred_at, lines, lock_lots(session, lot_ids), check_release=check_release)


def check_lots(  # noqa: C901 — one rule per lot status and direction, in the order of the module doc
    movement_type: str, occurred_at: datetime, lines: Sequence, current: dict, *, check_release: bool
) -> None:
    """The lot-status rules of a posting's lines against the lots' locked states (no query)."""
    for n, line in enumerate(lines, start=1):
        for ld in line.lots:
            state = current[ld.lot.id]
            code = f"lot {ld.lot.lot_code} of {line.item.sku}"
            if ld.quantity_delta > 0 and state.status == "consumed":
                raise LotNotReleased(
                    f"{label(n, line)}: {code} is consumed; new stock cannot be added to it (consumed is final)",
                    lot_code=ld.lot.lot_code,
                    status=state.status,
                )
            if not check_release:
                continue
            if ld.quantity_delta < 0 and movement_type in CONSUMING:
                if state.status != lots_service.RELEASED:
                    raise LotNotReleased(
                        f"{label(n, line)}: {code} is {state.status}; it cannot be shipped or consumed",
                        lot_code=ld.lot.lot_code,
                        status=state.status,
                    )
                if state.expires_at is not None and state.expires_at <= occurred_at:
                    raise LotNotReleased(
                        f"{label(n, line)}: {code} expired on {state.expires_at:%Y-%m-%d}; it cannot be shipped or consumed",
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
                    f"{label(n, line)}: {code} is {state.status}; it can only move to a quarantine or scrap location",
                    lot_code=ld.lot.lot_code,
                    status=state.status,
                )
            if ld.quantity_delta > 0 and movement_type in CREATING and state.status != lots_service.RELEASED:
                raise LotNotReleased(
                    f"{label(n, line)}: {code} is {state.status}; new stock cannot be added to it",
                    lot_code=ld.lot.lot_code,
                    status=state.status,
                )


def check_returns(session: Session, customer_id: uuid.UUID, occurred_at: datetime, lines: Sequence) -> None:
    """Refuse returning more of a lot than the customer was shipped by ``occurred_at``, net of earlier returns.

    Serialised per (customer, lot) with transaction advisory locks taken in lot order (no other
    path takes them), so two concurrent returns cannot both use the same shipped quantity.
    """
    wanted: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    first: dict[uuid.UUID, tuple[int, Any, Any]] = {}  # (line number, line, lot) as ``lines`` has them
    for n, line in enumerate(lines, start=1):
        for ld in line.lots:
            wanted[ld.lot.id] += ld.quantity_delta
            first.setdefault(ld.lot.id, (n, line, ld.lot))
    lot_ids = sorted(lot for lot, q in wanted.items() if q > 0)
    if not lot_ids:
        return
    rows = sql.rows(
        session,
        sql.load_sql("lotline.inventory", "returnable"),
        {"customer_id": customer_id, "lots": lot_ids, "occurred_at": occurred_at},
    )
    room = {r.lot_id: (r.shipped, r.returned) for r in rows}
    for lot_id in lot_ids:
        shipped, returned = room.get(lot_id, (Decimal(0), Decimal(0)))
        if wanted[lot_id] > shipped - returned:
            n, line, lot = first[lot_id]
            code = session.scalar(sa.select(Customer.code).where(Customer.id == customer_id))
            raise OverReturn(
                f"{label(n, line)}: customer {code} was shipped {fmt_qty(shipped)} {line.item.uom} "
                f"of lot {lot.lot_code} by {occurred_at.isoformat()} and has returned {fmt_qty(returned)}; "
                f"{fmt_qty(wanted[lot_id])} cannot come back",
                lot_code=lot.lot_code,
                customer=code,
                shipped=str(shipped),
                returned=str(returned),
                requested=str(wanted[lot_id]),
            )
