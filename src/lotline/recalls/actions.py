"""Recall actions: planning them (one by one or the standard set), their lifecycle, carrying them out.

Invariants kept here (the spec's service-layer invariant 6):
- Actions run only on active cases, with occurred_at inside [initiated_at, closed_at or now]; an
  action goes planned -> in_progress -> completed | canceled (``common.ACTION_TRANSITIONS``), and
  the same open action (type, lot, shipment) exists at most once per case.
- Stock moves only through the posting service (transfer / scrap), and the movement is recorded on
  the action. Each action type is one function in ``ACTIONS``.
- Lock order: case (FOR SHARE; FOR UPDATE for customer_notify, which drafts notices) then action
  (FOR UPDATE) then the lot (lots service) then balances (posting service).

Raises: NotFound, InvalidInput, InvalidStateTransition, Conflict, and whatever the lot and posting
services raise (LotNotReleased, InsufficientQuantity, ...).
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
from lotline.db import pages
from lotline.errors import Conflict, InvalidInput, InvalidStateTransition, LotNotReleased, NotFound
from lotline.inventory import service as inventory
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.models import (
    Customer,
    InventoryBalance,
    Item,
    Location,
    Lot,
    RecallAction,
    RecallCase,
    SalesOrderShipment,
)
from lotline.recalls.cases import find_case
from lotline.recalls.common import (
    ACTION_TRANSITIONS,
    OPEN_ACTION,
    append_note,
    check_window,
    require_status,
    run_sql,
    tuned,
)
from lotline.recalls.communications import draft_communications
from lotline.recalls.runs import latest_run, run_sets
from lotline.recalls.schemas import ActionIn, ActionRun, DraftIn
from lotline.types import utcnow
from lotline.vocab import ActionStatus, ActionType, LocationKind, LotStatus, MovementType, RecallStatus

# Stock already held apart: quarantine_lot leaves it where it is.
HOLDING_KINDS = (LocationKind.QUARANTINE, LocationKind.SCRAP)


def _resolve_shipment(session: Session, ref: str) -> SalesOrderShipment:
    sid = catalog.as_uuid(ref)
    shipment = session.get(SalesOrderShipment, sid) if sid else None
    if shipment is None and sid is None:
        shipment = session.scalar(sa.select(SalesOrderShipment).where(SalesOrderShipment.external_ref == ref))
    if shipment is None:
        raise NotFound(
            f"unknown shipment {ref!r} (give its id or external reference)", kind="shipment", ref=ref
        )
    return shipment


def plan_action(session: Session, ref: str | uuid.UUID, data: ActionIn) -> RecallAction:
    """Plan one action on an active case; Conflict if the same one is already open."""
    case = find_case(session, ref, lock="update")
    require_status(case, (RecallStatus.ACTIVE,), "plan actions")
    lot = lots_service.find_lot(session, data.lot, item_ref=data.item) if data.lot else None
    shipment = _resolve_shipment(session, data.shipment) if data.shipment else None
    open_same = session.scalar(
        sa.select(RecallAction.id).where(
            RecallAction.recall_case_id == case.id,
            RecallAction.action_type == data.action_type,
            RecallAction.lot_id.is_not_distinct_from(lot.id if lot else None),
            RecallAction.sales_order_shipment_id.is_not_distinct_from(shipment.id if shipment else None),
            RecallAction.status.in_(OPEN_ACTION),
        )
    )
    if open_same:
        what = f"lot {lot.lot_code}" if lot else (f"shipment {shipment.id}" if shipment else "the case")
        raise Conflict(
            f"recall {case.recall_number} already has an open {data.action_type} action for {what} ({open_same})",
            action_id=str(open_same),
        )
    action = RecallAction(
        recall_case_id=case.id,
        action_type=data.action_type,
        status=ActionStatus.PLANNED,
        lot_id=lot.id if lot else None,
        sales_order_shipment_id=shipment.id if shipment else None,
        notes=data.notes,
    )
    session.add(action)
    session.flush()
    return action


@tuned
def plan_all(session: Session, ref: str | uuid.UUID) -> int:
    """The standard action set from the computed run, in one INSERT ... SELECT; returns how many.

    Every target or downstream lot that is not consumed: quarantine_lot when it has stock outside
    quarantine/scrap locations, else block_lot unless already blocked or quarantined; plus one
    case-level customer_notify (it drafts one notice per impacted customer). Actions already
    planned, in progress or done are skipped.
    """
    case = find_case(session, ref, lock="update")
    require_status(case, (RecallStatus.ACTIVE,), "plan actions")
    run = latest_run(session, case)
    sets = run_sets(session, run)
    params = {
        "case_id": case.id,
        "run_id": run.id,
        "lot_ids": sets.recalled_lots,
        "shipment_ids": sets.shipments,
    }
    return run_sql(session, "plan_all", params)


def find_action(session: Session, action_id: uuid.UUID | str, *, lock: bool = False) -> RecallAction:
    """An action by id (``lock``: FOR UPDATE); NotFound otherwise."""
    aid = catalog.as_uuid(action_id)
    action = None
    if aid:
        query = sa.select(RecallAction).where(RecallAction.id == aid)
        if lock:
            query = query.with_for_update()
        action = session.scalar(query.execution_options(populate_existing=True))
    if action is None:
        raise NotFound(f"unknown recall action {action_id}", kind="recall_action", ref=str(action_id))
    return action


def _lock_case_and_action(session: Session, action_id) -> tuple[RecallCase, RecallAction]:
    action = find_action(session, action_id)
    # customer_notify drafts notices, which locks the case FOR UPDATE: take that lock now rather than
    # upgrade a share lock later (two upgrading transactions would deadlock).
    lock = "update" if action.action_type == ActionType.CUSTOMER_NOTIFY else "share"
    case = find_case(session, action.recall_case_id, lock=lock)
    return case, find_action(session, action_id, lock=True)


def _action_transition(action: RecallAction, new: str) -> None:
    if new not in ACTION_TRANSITIONS[action.status]:
        allowed = ", ".join(sorted(ACTION_TRANSITIONS[action.status])) or "none (final)"
        raise InvalidStateTransition(
            f"{action.action_type} action {action.id} cannot go from {action.status} to {new} (allowed: {allowed})",
            action_id=str(action.id),
            status=action.status,
        )


def start_action(session: Session, action_id) -> RecallAction:
    """planned -> in_progress (work has begun; run_action completes it)."""
    case, action = _lock_case_and_action(session, action_id)
    require_status(case, (RecallStatus.ACTIVE,), "work on actions")
    _action_transition(action, ActionStatus.IN_PROGRESS)
    action.status = ActionStatus.IN_PROGRESS
    action.updated_at = sa.func.now()
    session.flush()
    return action


def cancel_action(session: Session, action_id, reason: str | None = None) -> RecallAction:
    """planned|in_progress -> canceled; nothing moves. InvalidInput without a reason."""
    case, action = _lock_case_and_action(session, action_id)
    require_status(case, (RecallStatus.ACTIVE,), "change actions")
    audit.require_reason(session, reason, f"canceling a recall action of {case.recall_number}")
    _action_transition(action, ActionStatus.CANCELED)
    action.status = ActionStatus.CANCELED
    append_note(action, reason)
    action.updated_at = sa.func.now()
    session.flush()
    return action


def _actions_query(case: RecallCase, status: str | None) -> sa.Select:
    query = (
        sa.select(
            RecallAction.id,
            RecallAction.action_type,
            RecallAction.status,
            RecallAction.lot_id,
            Lot.lot_code,
            Item.sku,
            RecallAction.sales_order_shipment_id.label("shipment_id"),
            Customer.code.label("customer_code"),
            RecallAction.inventory_movement_id,
            RecallAction.notes,
            RecallAction.created_at,
            RecallAction.updated_at,
        )
        .outerjoin(Lot, Lot.id == RecallAction.lot_id)
        .outerjoin(Item, Item.id == Lot.item_id)
        .outerjoin(SalesOrderShipment, SalesOrderShipment.id == RecallAction.sales_order_shipment_id)
        .outerjoin(Customer, Customer.id == SalesOrderShipment.customer_id)
        .where(RecallAction.recall_case_id == case.id)
        .order_by(RecallAction.created_at, RecallAction.action_type, Item.sku, Lot.lot_code, RecallAction.id)
    )
    if status:
        query = query.where(RecallAction.status == status)
    return query


def list_actions(session: Session, case: RecallCase, *, status: str | None = None) -> list[dict]:
    """The case's actions with lot, item and customer, in planning order."""
    return [dict(r._mapping) for r in session.execute(_actions_query(case, status))]


def actions_page(
    session: Session, case: RecallCase, *, status: str | None = None, after: Sequence[str] | None, limit: int
) -> pages.Page:
    """One page of ``list_actions``, in the same planning order."""
    # only customer notices lack a lot, and they tie on sku and lot code: '' keeps them in id order
    keys = [RecallAction.created_at, RecallAction.action_type, sa.func.coalesce(Item.sku, ""),
            sa.func.coalesce(Lot.lot_code, ""), RecallAction.id]
    return pages.page(session, _actions_query(case, status), keys,
                      lambda r: (r.created_at, r.action_type, r.sku or "", r.lot_code or "", r.id),
                      after=after, limit=limit)


def _pick_location(session: Session, ref: str | None, kind: str, purpose: str) -> Location:
    if ref is not None:
        location = catalog.resolve(session, Location, ref, context=purpose)
        if location.kind != kind:
            raise InvalidInput(
                f"location {location.code} is a {location.kind} location; {purpose} needs a {kind} one"
            )
        return location
    found = session.scalars(
        sa.select(Location).where(Location.kind == kind, Location.active).order_by(Location.code).limit(6)
    ).all()
    if not found:
        raise InvalidInput(
            f"no {kind} location exists; create one (kind {kind}) or name one with --location ({purpose})"
        )
    if len(found) > 1:
        codes = ", ".join(x.code for x in found)
        raise InvalidInput(f"several {kind} locations ({codes}); name one with --location ({purpose})")
    return found[0]


def _balances(session: Session, lot: Lot, *, kinds_in=None, kinds_out=None, exclude=None):
    query = (
        sa.select(InventoryBalance.location_id, InventoryBalance.quantity, Location)
        .join(Location, Location.id == InventoryBalance.location_id)
        .where(InventoryBalance.lot_id == lot.id, InventoryBalance.quantity > 0)
        .order_by(Location.code)
    )
    if kinds_in:
        query = query.where(Location.kind.in_(kinds_in))
    if kinds_out:
        query = query.where(Location.kind.not_in(kinds_out))
    if exclude is not None:
        query = query.where(Location.id != exclude.id)
    return session.execute(query).all()


def _move_all(session, movement_type, occurred_at, lot, item, rows, dest, notes):
    """One movement taking every (location, quantity) in ``rows`` of ``lot`` (to ``dest`` if a transfer)."""
    if not rows:
        return None
    lines = [
        inventory.Line(item, r.Location, -r.quantity, [inventory.LotDelta(lot, -r.quantity)]) for r in rows
    ]
    if dest is not None:
        total = sum((r.quantity for r in rows), Decimal(0))
        lines.append(inventory.Line(item, dest, total, [inventory.LotDelta(lot, total)]))
    return inventory.post_movement(session, movement_type, occurred_at, lines, notes=notes).movement


# --- carrying actions out: one function per action type, dispatched from ACTIONS -----------------
# Each takes (session, case, action, data, occurred_at) and returns the movement it posted, if any.


def _lot_and_item(session: Session, action: RecallAction) -> tuple[Lot, Item]:
    lot = session.get_one(Lot, action.lot_id)
    return lot, session.get_one(Item, lot.item_id)


def _notify(session: Session, case: RecallCase, action: RecallAction, data: ActionRun, occurred_at: datetime):
    """customer_notify: draft the notices (one customer when the action names a shipment)."""
    customers = None
    if action.sales_order_shipment_id:
        customers = [session.get_one(SalesOrderShipment, action.sales_order_shipment_id).customer_id]
    draft_communications(session, case.id, DraftIn(channel=data.channel), customer_ids=customers)
    return None


def _block(session: Session, case: RecallCase, action: RecallAction, data: ActionRun, occurred_at: datetime):
    """block_lot: the lot becomes blocked where it stands."""
    lot, _item = _lot_and_item(session, action)
    lots_service.change_status(
        session, lot, LotStatusChange(status=LotStatus.BLOCKED, reason=f"recall {case.recall_number}")
    )
    return None


def _quarantine(
    session: Session, case: RecallCase, action: RecallAction, data: ActionRun, occurred_at: datetime
):
    """quarantine_lot: status quarantine, stock outside quarantine/scrap locations moved to one."""
    lot, item = _lot_and_item(session, action)
    tag = f"recall {case.recall_number}"
    dest = _pick_location(session, data.location, LocationKind.QUARANTINE, f"quarantine lot {lot.lot_code}")
    # Status first: it locks the lot, so no shipment slips in between reading and moving.
    lots_service.change_status(session, lot, LotStatusChange(status=LotStatus.QUARANTINE, reason=tag))
    rows = _balances(session, lot, kinds_out=HOLDING_KINDS, exclude=dest)
    return _move_all(
        session, MovementType.TRANSFER, occurred_at, lot, item, rows, dest, f"{tag}: quarantine lot {lot.lot_code}"
    )


def _scrap(session: Session, case: RecallCase, action: RecallAction, data: ActionRun, occurred_at: datetime):
    """scrap_lot: every position scrapped, then the lot marked consumed (only a lot without stock can be)."""
    lot, item = _lot_and_item(session, action)
    tag = f"recall {case.recall_number}"
    # Lock the lot first so no shipment slips in between reading and scrapping; it becomes consumed
    # only once its stock is gone (a lot with stock cannot be marked consumed).
    session.execute(sa.select(Lot.id).where(Lot.id == lot.id).with_for_update())
    rows = _balances(session, lot)
    movement = _move_all(session, MovementType.SCRAP, occurred_at, lot, item, rows, None, f"{tag}: scrap lot {lot.lot_code}")
    lots_service.change_status(session, lot, LotStatusChange(status=LotStatus.CONSUMED, reason=f"{tag}: scrapped"))
    return movement


def _restock(
    session: Session, case: RecallCase, action: RecallAction, data: ActionRun, occurred_at: datetime
):
    """restock_lot: a quarantined or blocked, unexpired lot becomes active, quarantine stock back to storage."""
    lot, item = _lot_and_item(session, action)
    tag = f"recall {case.recall_number}"
    if lot.status not in (LotStatus.QUARANTINE, LotStatus.BLOCKED):
        raise InvalidStateTransition(
            f"lot {lot.lot_code} is {lot.status}; only quarantined or blocked lots are restocked",
            lot_code=lot.lot_code,
            status=lot.status,
        )
    if lot.expires_at is not None and lot.expires_at <= occurred_at:
        raise LotNotReleased(
            f"lot {lot.lot_code} expired on {lot.expires_at:%Y-%m-%d}; it cannot be restocked",
            lot_code=lot.lot_code,
        )
    dest = _pick_location(session, data.location, LocationKind.STORAGE, f"restock lot {lot.lot_code}")
    # Active first: the posting service only lets active lots move into storage.
    # the recall's own (signed) decision releases the lot: no second signature per lot
    lots_service.change_status(
        session, lot, LotStatusChange(status=LotStatus.ACTIVE, reason=f"{tag}: restocked"), sign_release=False
    )
    rows = _balances(session, lot, kinds_in=(LocationKind.QUARANTINE,))
    return _move_all(
        session, MovementType.TRANSFER, occurred_at, lot, item, rows, dest, f"{tag}: restock lot {lot.lot_code}"
    )


ACTIONS = {
    ActionType.CUSTOMER_NOTIFY: _notify,
    ActionType.BLOCK_LOT: _block,
    ActionType.QUARANTINE_LOT: _quarantine,
    ActionType.SCRAP_LOT: _scrap,
    ActionType.RESTOCK_LOT: _restock,
}
MOVES_STOCK = (ActionType.QUARANTINE_LOT, ActionType.SCRAP_LOT, ActionType.RESTOCK_LOT)


def run_action(session: Session, action_id, data: ActionRun | None = None) -> RecallAction:
    """Carry out a planned or in-progress action and mark it completed (moves stock for lot actions)."""
    data = data or ActionRun()
    case, action = _lock_case_and_action(session, action_id)
    require_status(case, (RecallStatus.ACTIVE,), "carry out actions")
    _action_transition(action, ActionStatus.COMPLETED)
    occurred_at = data.occurred_at or utcnow()
    check_window(case, occurred_at)
    movement = ACTIONS[ActionType(action.action_type)](session, case, action, data, occurred_at)
    action.status = ActionStatus.COMPLETED
    action.inventory_movement_id = movement.id if movement is not None else None
    if movement is None and action.action_type in MOVES_STOCK:
        append_note(action, f"{occurred_at:%Y-%m-%d %H:%M} nothing on hand to move")
    append_note(action, data.notes)
    action.updated_at = sa.func.now()
    session.flush()
    return action
