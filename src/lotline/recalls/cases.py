"""Recall cases and their targets: numbering, lifecycle (draft -> active -> closed | canceled), targets.

Invariants kept here:
- A case goes draft -> active (initiated_at) -> closed (closed_at) | canceled; draft -> canceled too.
  Nothing else (``common.CASE_TRANSITIONS``). Activating needs a target; closing needs no action
  planned or in progress; canceling cancels the open actions (no stock moves).
- Recall numbers are generated under a transaction-level advisory lock (RC-<year>-<nnnn>); the
  UNIQUE constraint stays the last line of defence.
- Targets are unique per case, also when lot_id or item_id is NULL (the unique index treats NULLs as
  distinct, so the check runs under the case row lock).

Raises: NotFound, InvalidInput, InvalidStateTransition, DuplicateKey.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.audit import service as audit
from lotline.auth import signatures
from lotline.catalog import service as catalog
from lotline.db import pages
from lotline.errors import DuplicateKey, InvalidInput, InvalidStateTransition, NotFound
from lotline.lots import service as lots_service
from lotline.models import Item, Lot, RecallAction, RecallCase, RecallCaseTarget
from lotline.recalls import strategy
from lotline.recalls.common import CASE_TRANSITIONS, OPEN_ACTION, append_note, not_future, require_status
from lotline.recalls.schemas import CaseIn, CaseUpdate, TargetIn, TransitionIn
from lotline.types import utcnow
from lotline.vocab import ActionStatus, RecallStatus, SignedAction, TargetType


def _next_number(session: Session, year: int) -> str:
    # Serialise number generation; the UNIQUE constraint stays the last line of defence.
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended("recall_number", 0))))
    prefix = f"RC-{year}-"
    last = session.scalar(
        sa.select(
            sa.func.max(
                sa.cast(sa.func.substring(RecallCase.recall_number, r"^RC-\d{4}-(\d{1,9})$"), sa.Integer)
            )
        ).where(RecallCase.recall_number.like(prefix + "%"))
    )
    return f"{prefix}{(last or 0) + 1:04d}"


def create_case(session: Session, data: CaseIn) -> RecallCase:
    """A new draft case; its number is RC-<year>-<nnnn> unless given (DuplicateKey if taken)."""
    number = data.recall_number or _next_number(session, utcnow().year)
    if session.scalar(sa.select(RecallCase.id).where(RecallCase.recall_number == number)):
        raise DuplicateKey(f"a recall case {number!r} already exists", recall_number=number)
    case = RecallCase(
        recall_number=number,
        status=RecallStatus.DRAFT,
        severity=data.severity,
        summary=data.summary,
        notes=data.notes,
    )
    session.add(case)
    session.flush()
    return case


def find_case(session: Session, ref: str | uuid.UUID, *, lock: str | None = None) -> RecallCase:
    """A case by id or recall number; ``lock`` = "update" | "share" locks its row."""
    case_id = catalog.as_uuid(ref)
    query = sa.select(RecallCase).where(
        RecallCase.id == case_id if case_id else RecallCase.recall_number == str(ref)
    )
    if lock:
        query = query.with_for_update(read=lock == "share")
    case = session.scalar(query.execution_options(populate_existing=True))
    if case is None:
        raise NotFound(
            f"unknown recall case {str(ref)!r}; list them with `lotline recall list`",
            kind="recall_case",
            ref=str(ref),
        )
    return case


def list_cases(session: Session, *, status: str | None = None, limit: int = 200) -> Sequence[RecallCase]:
    """Cases, newest first (at most ``limit``), optionally of one status."""
    query = (
        sa.select(RecallCase).order_by(RecallCase.created_at.desc(), RecallCase.recall_number).limit(limit)
    )
    if status:
        query = query.where(RecallCase.status == status)
    return session.scalars(query).all()


def cases_page(session: Session, *, status: str | None = None, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of (case,) rows, newest first (by creation time, then number)."""
    query = sa.select(RecallCase)
    if status:
        query = query.where(RecallCase.status == status)
    return pages.page(session, query, [RecallCase.created_at, RecallCase.recall_number],
                      lambda r: (r[0].created_at, r[0].recall_number), after=after, limit=limit, descending=True)


def update_case(session: Session, ref: str | uuid.UUID, data: CaseUpdate) -> RecallCase:
    """Change severity, summary or notes of a draft or active case."""
    case = find_case(session, ref, lock="update")
    require_status(case, (RecallStatus.DRAFT, RecallStatus.ACTIVE), "be edited")
    for field in data.model_fields_set:
        setattr(case, field, getattr(data, field))
    case.updated_at = sa.func.now()
    session.flush()
    session.refresh(case)
    return case


def _transition(case: RecallCase, new: str) -> None:
    if new not in CASE_TRANSITIONS[case.status]:
        allowed = ", ".join(sorted(CASE_TRANSITIONS[case.status])) or "none (final)"
        raise InvalidStateTransition(
            f"recall {case.recall_number} cannot go from {case.status} to {new} (allowed: {allowed})",
            recall_number=case.recall_number,
            status=case.status,
        )


def activate(
    session: Session, ref: str | uuid.UUID, data: TransitionIn | None = None, *, signed: bool = True
) -> RecallCase:
    """draft -> active; initiated_at = data.at or now. The case needs a strategy, at least one target and the
    actor's electronic signature (``data.signature``; a drill's mock case passes ``signed=False``)."""
    data = data or TransitionIn()
    case = find_case(session, ref, lock="update")
    _transition(case, RecallStatus.ACTIVE)
    if not session.scalar(
        sa.select(RecallCaseTarget.id).where(RecallCaseTarget.recall_case_id == case.id).limit(1)
    ):
        raise InvalidInput(
            f"recall {case.recall_number} has no targets; add a lot or item before activating it"
        )
    strategy.require(session, case)  # 21 CFR 7.42: no recall starts without its strategy
    case.initiated_at = not_future(data.at or utcnow(), "initiated_at")
    signature = (
        signatures.require_signature(data.signature, SignedAction.RECALL_ACTIVATE, f"activating recall {case.recall_number}")
        if signed
        else None
    )
    case.status = RecallStatus.ACTIVE
    if data.reason:
        audit.set_reason(session, data.reason)
    append_note(case, data.reason)
    case.updated_at = sa.func.now()
    session.flush()
    if signature is not None:
        signatures.sign(session, signature, SignedAction.RECALL_ACTIVATE, "recall_cases", case.id)
    return case


def close(session: Session, ref: str | uuid.UUID, data: TransitionIn | None = None) -> RecallCase:
    """active -> closed; refused while any action is planned or in progress. Needs a reason and the
    actor's electronic signature."""
    data = data or TransitionIn()
    case = find_case(session, ref, lock="update")
    _transition(case, RecallStatus.CLOSED)
    open_actions = session.execute(
        sa.select(RecallAction.status, sa.func.count())
        .where(RecallAction.recall_case_id == case.id, RecallAction.status.in_(OPEN_ACTION))
        .group_by(RecallAction.status)
    ).all()
    if open_actions:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(open_actions))
        raise InvalidStateTransition(
            f"recall {case.recall_number} still has open actions ({counts}); complete or cancel them first",
            recall_number=case.recall_number,
        )
    closed_at = not_future(data.at or utcnow(), "closed_at")
    if case.initiated_at is not None and closed_at < case.initiated_at:
        raise InvalidInput(
            f"closed_at {closed_at.isoformat()} is before the recall was initiated ({case.initiated_at.isoformat()})"
        )
    what = f"closing recall {case.recall_number}"
    audit.require_reason(session, data.reason, what)
    signature = signatures.require_signature(data.signature, SignedAction.RECALL_CLOSE, what)
    case.closed_at = closed_at
    case.status = RecallStatus.CLOSED
    append_note(case, data.reason)
    case.updated_at = sa.func.now()
    session.flush()
    signatures.sign(session, signature, SignedAction.RECALL_CLOSE, "recall_cases", case.id)
    return case


def cancel(session: Session, ref: str | uuid.UUID, data: TransitionIn | None = None) -> RecallCase:
    """draft|active -> canceled (closed_at = when); open actions are canceled with it (no stock moves)."""
    data = data or TransitionIn()
    case = find_case(session, ref, lock="update")
    _transition(case, RecallStatus.CANCELED)
    audit.require_reason(session, data.reason, f"canceling recall {case.recall_number}")
    session.execute(
        sa.update(RecallAction)
        .where(RecallAction.recall_case_id == case.id, RecallAction.status.in_(OPEN_ACTION))
        .values(status=ActionStatus.CANCELED, updated_at=sa.func.now())
    )
    case.status = RecallStatus.CANCELED
    case.closed_at = not_future(data.at or utcnow(), "canceled at")
    if case.initiated_at and case.closed_at < case.initiated_at:
        raise InvalidInput("a recall cannot be canceled before it was initiated")
    append_note(case, data.reason)
    case.updated_at = sa.func.now()
    session.flush()
    return case


# --- targets -------------------------------------------------------------------------------------


def add_target(session: Session, ref: str | uuid.UUID, data: TargetIn) -> RecallCaseTarget:
    """Target a lot, or an item (all its lots; for untracked items, its shipments in that uom)."""
    # The case lock serialises target additions: the duplicate check below cannot race.
    case = find_case(session, ref, lock="update")
    require_status(case, (RecallStatus.DRAFT, RecallStatus.ACTIVE), "take new targets")
    if data.lot is not None:
        lot = lots_service.find_lot(session, data.lot, item_ref=data.item)
        values = {"target_type": TargetType.LOT, "lot_id": lot.id, "item_id": None, "uom": None}
        label = f"lot {lot.lot_code}"
    else:
        assert data.item is not None  # TargetIn holds a lot or an item
        item = catalog.resolve(session, Item, data.item)
        uom = data.uom or item.uom
        if uom != item.uom:
            raise InvalidInput(
                f"item {item.sku} is stocked and shipped in {item.uom}, not {uom}; nothing of it moves in {uom}"
            )
        values = {"target_type": TargetType.ITEM, "lot_id": None, "item_id": item.id, "uom": uom}
        label = f"item {item.sku} ({uom})"
    # IS NOT DISTINCT FROM: the unique index cannot see duplicates whose lot_id or item_id is NULL.
    dup = session.scalar(
        sa.select(RecallCaseTarget.id).where(
            RecallCaseTarget.recall_case_id == case.id,
            RecallCaseTarget.target_type == values["target_type"],
            RecallCaseTarget.lot_id.is_not_distinct_from(values["lot_id"]),
            RecallCaseTarget.item_id.is_not_distinct_from(values["item_id"]),
            RecallCaseTarget.uom.is_not_distinct_from(values["uom"]),
        )
    )
    if dup:
        raise DuplicateKey(f"recall {case.recall_number} already targets {label}", target_id=str(dup))
    target = RecallCaseTarget(recall_case_id=case.id, **values)
    session.add(target)
    case.updated_at = sa.func.now()
    session.flush()
    return target


def remove_target(session: Session, ref: str | uuid.UUID, target_id: uuid.UUID, reason: str | None = None) -> None:
    """Remove a target of a draft or active case; NotFound if the case has no such target,
    InvalidInput without a reason (kept in the audit trail with the removed row)."""
    case = find_case(session, ref, lock="update")
    require_status(case, (RecallStatus.DRAFT, RecallStatus.ACTIVE), "change targets")
    audit.require_reason(session, reason, f"removing a target of recall {case.recall_number}")
    # a DML statement's result is a CursorResult (Session.execute is typed with the base Result)
    deleted = cast(
        "sa.CursorResult[Any]",
        session.execute(
            sa.delete(RecallCaseTarget).where(
                RecallCaseTarget.id == target_id, RecallCaseTarget.recall_case_id == case.id
            )
        ),
    ).rowcount
    if not deleted:
        raise NotFound(f"recall {case.recall_number} has no target {target_id}", kind="recall_target")


def _targets_query(case: RecallCase) -> sa.Select:
    lot_item = sa.orm.aliased(Item)
    return (
        sa.select(
            RecallCaseTarget.id,
            RecallCaseTarget.target_type,
            RecallCaseTarget.lot_id,
            Lot.lot_code,
            sa.func.coalesce(Item.id, lot_item.id).label("item_id"),
            sa.func.coalesce(Item.sku, lot_item.sku).label("sku"),
            sa.func.coalesce(Item.name, lot_item.name).label("item_name"),
            sa.func.coalesce(RecallCaseTarget.uom, lot_item.uom).label("uom"),
            sa.func.coalesce(Item.lot_tracked, True).label("lot_tracked"),
            RecallCaseTarget.created_at,
        )
        .outerjoin(Lot, Lot.id == RecallCaseTarget.lot_id)
        .outerjoin(lot_item, lot_item.id == Lot.item_id)
        .outerjoin(Item, Item.id == RecallCaseTarget.item_id)
        .where(RecallCaseTarget.recall_case_id == case.id)
        .order_by(RecallCaseTarget.created_at, RecallCaseTarget.id)
    )


def list_targets(session: Session, case: RecallCase) -> list[dict]:
    """The case's targets with their lot, item and uom, oldest first."""
    return [dict(r._mapping) for r in session.execute(_targets_query(case))]


def targets_page(session: Session, case: RecallCase, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of ``list_targets`` (rows with the same fields), oldest first."""
    return pages.page(session, _targets_query(case), [RecallCaseTarget.created_at, RecallCaseTarget.id],
                      lambda r: (r.created_at, r.id), after=after, limit=limit)


def case_dict(case: RecallCase) -> dict[str, Any]:
    """The case's columns as a plain dict (what the API and CLI print)."""
    return {
        "id": case.id,
        "recall_number": case.recall_number,
        "status": case.status,
        "severity": case.severity,
        "summary": case.summary,
        "notes": case.notes,
        "initiated_at": case.initiated_at,
        "closed_at": case.closed_at,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }
