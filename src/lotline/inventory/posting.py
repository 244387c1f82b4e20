"""Posting one inventory movement: the one place the lot rules are applied, in the caller's transaction.

``post_movement`` takes fully resolved lines and:
- returns the original movement for a replayed ``external_ref`` (idempotency);
- checks every line (``rules.validate``), locks and checks the lots (``rules.lock_and_check_lots``),
  bounds returns by what the customer was shipped (``rules.check_returns``);
- locks the balance rows it takes from in the global order and refuses any lot going below zero
  at any location at the movement's time or any later one (``balances.apply``); rows it only adds
  to are locked by the write itself;
- then writes balances, movement, lines and lot rows — two statements sent in one pipeline
  (``insert_movement.sql`` writes the movement with all its lines and lot rows), followed in the
  same pipeline by the caller's own records of the posting (``then``: shipment links, genealogy).
Any refusal raises before anything is written (a caller may catch it and go on in the same
transaction); the caller's transaction rolls back the rest.
Rows and lots are locked and read once per transaction (``held``), so several postings in one
transaction (``batch``) cost less than as many transactions.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached

from lotline.db import sql
from lotline.errors import DuplicateKey, InvalidInput, NotFound
from lotline.inventory import balances, rules
from lotline.models import InventoryMovement, InventoryMovementLine, InventoryMovementLot, Item, Location, Lot


@dataclass(frozen=True)
class LotRef:
    """What posting needs of a lot (a ``Lot`` row serves too): FEFO picks from locked rows build these."""

    id: uuid.UUID
    item_id: uuid.UUID
    lot_code: str


@dataclass
class LotDelta:
    lot: Lot | LotRef
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
    # with ``post_movement(..., then_rows=True)``: the rows of the last ``then`` statement
    then_rows: list = field(default_factory=list)


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


_LOCK_REF = "SELECT pg_advisory_xact_lock(hashtextextended(%(key)s::text, 0))"
_POSTED_UNDER = {
    "movement": "SELECT id, movement_type FROM inventory_movements WHERE external_ref = %(ref)s::text",
    "execution": "SELECT id, NULL FROM work_order_executions WHERE external_ref = %(ref)s::text",
    "shipment": "SELECT id, NULL FROM sales_order_shipments WHERE external_ref = %(ref)s::text",
}


def lock_external_ref(session: Session, external_ref: str, *, kind: str) -> None:
    """Serialise postings that share an external reference (advisory lock held until commit)."""
    sql.execute(session, _LOCK_REF, {"key": f"{kind}:{external_ref}"})


def claim_external_ref(session: Session, external_ref: str, *, kind: str) -> tuple[uuid.UUID, str | None] | None:
    """Lock ``external_ref`` (as ``lock_external_ref``) and return (id, type) of what was posted under it.

    Lock and lookup go in one pipeline: the lookup starts after the lock is granted, so it sees
    every posting that committed under the reference before us.
    """
    session.flush()
    rows = sql.execute_all(
        session,
        [(_LOCK_REF, {"key": f"{kind}:{external_ref}"}), (_POSTED_UNDER[kind], {"ref": external_ref})],
        kind="tuple",
    )
    return (rows[0][0], rows[0][1]) if rows else None


def already_posted(session: Session, external_ref: str, movement_type: str) -> Posted | None:
    """The movement posted earlier under ``external_ref`` (idempotent replay), or None."""
    found = claim_external_ref(session, external_ref, kind="movement")
    if found is None:
        return None
    existing = session.get_one(InventoryMovement, found[0])
    if existing.movement_type != movement_type:
        raise DuplicateKey(
            f"external reference {external_ref!r} was already used by a {existing.movement_type} movement",
            external_ref=external_ref,
        )
    return _replay(session, existing)


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
    locked: dict | None = None,
    then: Callable[[Posted], list[tuple[Any, dict]]] | None = None,
    claimed: bool = False,
    then_rows: bool = False,
) -> Posted:
    """Validate and post one movement with its lines, lot rows and balances (see module doc).

    ``locked``: the balance rows ``lock_stock`` locked for this posting, not read again.
    ``then``: the caller's own writes that name the posted rows (shipment links, genealogy),
    built from the ``Posted`` and sent in the same pipeline, after the movement.
    ``claimed``: the caller already ran ``already_posted`` for ``external_ref`` in this transaction.
    ``then_rows``: the rows of the last ``then`` statement come back in ``Posted.then_rows``.
    """
    if movement_type not in rules.SIGN:
        raise InvalidInput(f"unknown movement type {movement_type!r}")
    rules.check_occurred_at(occurred_at)
    if external_ref is not None and not claimed and (existing := already_posted(session, external_ref, movement_type)):
        return existing
    reversal = reverses_movement_id is not None
    rules.validate("adjustment" if reversal else movement_type, lines)
    rules.lock_and_check_lots(session, movement_type, occurred_at, lines, check_release=not reversal)
    if movement_type == "return" and customer_id is not None and not reversal:
        rules.check_returns(session, customer_id, occurred_at, lines)
    write = balances.apply(session, balances.changes_of(lines, rules.label), occurred_at, locked)

    # Ids made here, so that balances, movement, lines and lot rows go out in one pipeline (two
    # statements, one wait) with nothing to read back; the rows are written by
    # ``insert_movement.sql``, and the ORM objects join the session as already persistent.
    movement = InventoryMovement(
        id=uuid.uuid4(),
        movement_type=movement_type,
        status="posted",
        occurred_at=occurred_at,
        external_ref=external_ref,
        vendor_id=vendor_id,
        customer_id=customer_id,
        notes=notes,
        reverses_movement_id=reverses_movement_id,
    )
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
            occurred_at=occurred_at,
            movement_type=movement_type,
        )
        for n, line in enumerate(lines, start=1)
    ]
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
    flat = [r for rows in lot_rows for r in rows]
    posted = Posted(movement, db_lines, lot_rows)
    session.flush()  # pending ORM rows (new lots, a new order) before the core statements name them
    statements = [(write.statement, write.params), (_insert_movement_sql(), {
        "id": movement.id,
        "movement_type": movement_type,
        "occurred_at": occurred_at,
        "external_ref": external_ref,
        "vendor_id": vendor_id,
        "customer_id": customer_id,
        "reverses_movement_id": reverses_movement_id,
        "notes": notes,
        "line_ids": [x.id for x in db_lines],
        "line_nos": [x.line_no for x in db_lines],
        "items": [x.item_id for x in db_lines],
        "locations": [x.location_id for x in db_lines],
        "uoms": [x.uom for x in db_lines],
        "quantities": [x.quantity_delta for x in db_lines],
        "unit_costs": [x.unit_cost for x in db_lines],
        "row_ids": [r.id for r in flat],
        "row_lines": [r.inventory_movement_line_id for r in flat],
        "lots": [r.lot_id for r in flat],
        "row_uoms": [r.uom for r in flat],
        "row_quantities": [r.quantity_delta for r in flat],
    }), *(then(posted) if then else [])]
    rows = sql.execute_all(session, statements, kind="tuple" if then_rows and then else None)
    posted.then_rows = rows or []
    write.done()
    # persistent from here on, as if loaded: columns the database filled (created_at) load on access
    for obj in (movement, *db_lines, *flat):
        make_transient_to_detached(obj)
    session.add_all([movement, *db_lines, *flat])
    return posted


def _insert_movement_sql() -> str:
    return sql.load_sql("lotline.inventory", "insert_movement")


def get_movement(session: Session, movement_id: uuid.UUID) -> Posted:
    movement = session.get(InventoryMovement, movement_id)
    if movement is None:
        raise NotFound(f"unknown movement {movement_id}", kind="movement", ref=str(movement_id))
    posted = _replay(session, movement)
    posted.replayed = False
    return posted
