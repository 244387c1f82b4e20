"""Recall execution: cases, targets, trace runs, actions that move stock, communications.

Invariants kept here (the spec's service-layer invariants 5, 6 and 7):
- A case goes draft -> active (initiated_at) -> closed (closed_at) | canceled; draft -> canceled too.
  Nothing else (CASE_TRANSITIONS). Closing needs no action planned or in progress.
- Targets are unique per case, also when lot_id or item_id is NULL (the unique index treats NULLs as
  distinct, so the service checks under the case row lock).
- A trace run is computed in ONE transaction: the case row is locked FOR UPDATE first (concurrent
  computations queue), the previous computed run becomes superseded, and the run, its impacted lots
  (with roles) and impacted shipments (with customers) are inserted set-based. So exactly one run per
  case is computed, and a failure anywhere leaves nothing behind. Runs are never edited otherwise.
- Actions run only on active cases, with occurred_at inside [initiated_at, closed_at or now]; stock
  moves through the posting service (transfer / scrap), and the movement is recorded on the action.
  Lock order: case (FOR SHARE; FOR UPDATE for customer_notify, which drafts notices) then action
  (FOR UPDATE) then the lot (lots service) then balances (posting service).
- Communications: one per (case, customer, channel); the email channel is sent by ``notify``.

Raises: NotFound, InvalidInput, InvalidStateTransition, DuplicateKey, Conflict, and whatever the lot
and posting services raise (LotNotReleased, InsufficientQuantity, ...).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import jinja2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.audit import service as audit
from lotline.auth import signatures
from lotline.catalog import service as catalog
from lotline.db import load_sql
from lotline.errors import (
    Conflict,
    DuplicateKey,
    InvalidInput,
    InvalidStateTransition,
    LotNotReleased,
    NotFound,
)
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
    RecallCaseTarget,
    RecallCommunication,
    RecallImpactedLot,
    RecallImpactedShipment,
    RecallTraceRun,
    SalesOrder,
    SalesOrderShipment,
)
from lotline.perf import no_gc_pauses
from lotline.recalls.schemas import (
    ActionIn,
    ActionRun,
    CaseIn,
    CaseUpdate,
    DraftIn,
    RecordIn,
    RunIn,
    TargetIn,
    TransitionIn,
)
from lotline.types import utcnow

CASE_TRANSITIONS: dict[str, set[str]] = {
    "draft": {"active", "canceled"},
    "active": {"closed", "canceled"},
    "closed": set(),
    "canceled": set(),
}
ACTION_TRANSITIONS: dict[str, set[str]] = {
    "planned": {"in_progress", "completed", "canceled"},
    "in_progress": {"completed", "canceled"},
    "completed": set(),
    "canceled": set(),
}
OPEN_ACTION = ("planned", "in_progress")
# Stock already held apart: quarantine_lot leaves it where it is.
HOLDING_KINDS = ("quarantine", "scrap")
FUTURE_TOLERANCE = timedelta(minutes=5)
NIL = uuid.UUID(int=0)


# For the rest of the caller's transaction (SET LOCAL): these statements touch 10^4-10^5 rows by
# index; JIT compilation costs more than it saves (~100 ms per statement measured on the bench data),
# and sorting the impacted lines of a much-used lot spills to disk at the default work_mem.
_SETTINGS = "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'"


def _sql(session: Session, name: str, params: dict[str, Any]):
    """Run ``recalls/sql/<name>.sql`` (psycopg %(name)s parameters, each cast in the SQL)."""
    conn = session.connection()
    conn.exec_driver_sql(_SETTINGS)
    return conn.exec_driver_sql(load_sql("lotline.recalls", name), params)


def _dicts(session: Session, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``_sql`` as plain dicts (zip over plain rows: ~10^5 rows per export)."""
    result = _sql(session, name, params)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.fetchall()]


def _not_future(value: datetime, what: str) -> datetime:
    if value > utcnow() + FUTURE_TOLERANCE:
        raise InvalidInput(f"{what} {value.isoformat()} is in the future")
    return value


# --- cases ---------------------------------------------------------------------------------------


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
        status="draft",
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
    query = (
        sa.select(RecallCase).order_by(RecallCase.created_at.desc(), RecallCase.recall_number).limit(limit)
    )
    if status:
        query = query.where(RecallCase.status == status)
    return session.scalars(query).all()


def update_case(session: Session, ref: str | uuid.UUID, data: CaseUpdate) -> RecallCase:
    """Change severity, summary or notes of a draft or active case."""
    case = find_case(session, ref, lock="update")
    _require_status(case, ("draft", "active"), "be edited")
    for field in data.model_fields_set:
        setattr(case, field, getattr(data, field))
    case.updated_at = sa.func.now()
    session.flush()
    session.refresh(case)
    return case


def _require_status(case: RecallCase, allowed: Sequence[str], doing: str) -> None:
    if case.status not in allowed:
        raise InvalidStateTransition(
            f"recall {case.recall_number} is {case.status}; only {' or '.join(allowed)} cases can {doing}",
            recall_number=case.recall_number,
            status=case.status,
        )


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
    """draft -> active; initiated_at = data.at or now. The case needs at least one target and the
    actor's electronic signature (``data.signature``)."""
    data = data or TransitionIn()
    case = find_case(session, ref, lock="update")
    _transition(case, "active")
    if not session.scalar(
        sa.select(RecallCaseTarget.id).where(RecallCaseTarget.recall_case_id == case.id).limit(1)
    ):
        raise InvalidInput(
            f"recall {case.recall_number} has no targets; add a lot or item before activating it"
        )
    case.initiated_at = _not_future(data.at or utcnow(), "initiated_at")
    if signed:
        signatures.require_signature(data.signature, "recall.activate", f"activating recall {case.recall_number}")
    case.status = "active"
    if data.reason:
        audit.set_reason(session, data.reason)
    _append_note(case, data.reason)
    case.updated_at = sa.func.now()
    session.flush()
    if signed:
        signatures.sign(session, data.signature, "recall.activate", "recall_cases", case.id)
    return case


def close(session: Session, ref: str | uuid.UUID, data: TransitionIn | None = None) -> RecallCase:
    """active -> closed; refused while any action is planned or in progress. Needs a reason and the
    actor's electronic signature."""
    data = data or TransitionIn()
    case = find_case(session, ref, lock="update")
    _transition(case, "closed")
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
    closed_at = _not_future(data.at or utcnow(), "closed_at")
    if closed_at < case.initiated_at:
        raise InvalidInput(
            f"closed_at {closed_at.isoformat()} is before the recall was initiated ({case.initiated_at.isoformat()})"
        )
    what = f"closing recall {case.recall_number}"
    audit.require_reason(session, data.reason, what)
    signatures.require_signature(data.signature, "recall.close", what)
    case.closed_at = closed_at
    case.status = "closed"
    _append_note(case, data.reason)
    case.updated_at = sa.func.now()
    session.flush()
    signatures.sign(session, data.signature, "recall.close", "recall_cases", case.id)
    return case


def cancel(session: Session, ref: str | uuid.UUID, data: TransitionIn | None = None) -> RecallCase:
    """draft|active -> canceled (closed_at = when); open actions are canceled with it (no stock moves)."""
    data = data or TransitionIn()
    case = find_case(session, ref, lock="update")
    _transition(case, "canceled")
    audit.require_reason(session, data.reason, f"canceling recall {case.recall_number}")
    session.execute(
        sa.update(RecallAction)
        .where(RecallAction.recall_case_id == case.id, RecallAction.status.in_(OPEN_ACTION))
        .values(status="canceled", updated_at=sa.func.now())
    )
    case.status = "canceled"
    case.closed_at = _not_future(data.at or utcnow(), "canceled at")
    if case.initiated_at and case.closed_at < case.initiated_at:
        raise InvalidInput("a recall cannot be canceled before it was initiated")
    _append_note(case, data.reason)
    case.updated_at = sa.func.now()
    session.flush()
    return case


def _append_note(obj, text: str | None) -> None:
    if text:
        obj.notes = f"{obj.notes}\n{text}" if obj.notes else text


# --- targets -------------------------------------------------------------------------------------


def add_target(session: Session, ref: str | uuid.UUID, data: TargetIn) -> RecallCaseTarget:
    """Target a lot, or an item (all its lots; for untracked items, its shipments in that uom)."""
    # The case lock serialises target additions: the duplicate check below cannot race.
    case = find_case(session, ref, lock="update")
    _require_status(case, ("draft", "active"), "take new targets")
    if data.lot is not None:
        lot = lots_service.find_lot(session, data.lot, item_ref=data.item)
        values = {"target_type": "lot", "lot_id": lot.id, "item_id": None, "uom": None}
        label = f"lot {lot.lot_code}"
    else:
        item = catalog.resolve(session, Item, data.item)
        uom = data.uom or item.uom
        if uom != item.uom:
            raise InvalidInput(
                f"item {item.sku} is stocked and shipped in {item.uom}, not {uom}; nothing of it moves in {uom}"
            )
        values = {"target_type": "item", "lot_id": None, "item_id": item.id, "uom": uom}
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
    """Remove a target; InvalidInput without a reason (kept in the audit trail with the old row)."""
    case = find_case(session, ref, lock="update")
    _require_status(case, ("draft", "active"), "change targets")
    audit.require_reason(session, reason, f"removing a target of recall {case.recall_number}")
    deleted = session.execute(
        sa.delete(RecallCaseTarget).where(
            RecallCaseTarget.id == target_id, RecallCaseTarget.recall_case_id == case.id
        )
    ).rowcount
    if not deleted:
        raise NotFound(f"recall {case.recall_number} has no target {target_id}", kind="recall_target")


def list_targets(session: Session, case: RecallCase) -> list[dict]:
    lot_item = sa.orm.aliased(Item)
    rows = session.execute(
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
    return [dict(r._mapping) for r in rows]


# --- trace runs ----------------------------------------------------------------------------------


@no_gc_pauses()
def compute_run(session: Session, ref: str | uuid.UUID, data: RunIn | None = None) -> RecallTraceRun:
    """Trace the case's targets as of a time and persist the run (see module doc: invariants 5, 7)."""
    from lotline.trace import service as trace  # the engine; imported late so recalls load without it

    data = data or RunIn()
    # FOR UPDATE first: a concurrent computation for this case waits here, then supersedes ours.
    case = find_case(session, ref, lock="update")
    _require_status(case, ("draft", "active"), "be traced")
    as_of = _not_future(data.as_of or utcnow(), "as_of")
    n_targets = session.scalar(
        sa.select(sa.func.count())
        .select_from(RecallCaseTarget)
        .where(RecallCaseTarget.recall_case_id == case.id)
    )
    if not n_targets:
        raise InvalidInput(f"recall {case.recall_number} has no targets; add a lot or item first")
    start = [r[0] for r in _sql(session, "start_lots", {"case_id": case.id, "as_of": as_of})]
    lot_ids: list[uuid.UUID] = []
    roles: list[str] = []
    ship_ids: list[uuid.UUID] = []
    customer_ids: list[uuid.UUID] = []
    if start:
        result = trace.trace(
            session, start, direction=data.direction, as_of=as_of, max_depth=data.max_depth, with_stock=False
        )
        for x in result.lots:
            lot_ids.append(x.lot_id)
            roles.append(x.role)
        seen: set[uuid.UUID] = set()
        for s in result.shipments:
            if s.sales_order_shipment_id not in seen:
                seen.add(s.sales_order_shipment_id)
                ship_ids.append(s.sales_order_shipment_id)
                customer_ids.append(s.customer_id)

    session.execute(
        sa.update(RecallTraceRun)
        .where(RecallTraceRun.recall_case_id == case.id, RecallTraceRun.status == "computed")
        .values(status="superseded")
    )
    depth = "unbounded" if data.max_depth is None else str(data.max_depth)
    params = f"direction={data.direction} max_depth={depth} start_lots={len(start)}"
    run = RecallTraceRun(
        recall_case_id=case.id,
        as_of=as_of,
        status="computed",
        notes=f"{params}\n{data.notes}" if data.notes else params,
        # The wall-clock time (not the transaction start): runs order by it, also within one transaction.
        computed_at=sa.func.clock_timestamp(),
    )
    session.add(run)
    session.flush()
    _insert_impacted_lots(session, run.id, lot_ids, roles)
    _insert_impacted_shipments(session, run.id, case.id, as_of, ship_ids, customer_ids)
    session.refresh(run)
    return run


def _insert_impacted_lots(session: Session, run_id, lot_ids, roles) -> None:
    if lot_ids:
        _sql(session, "insert_impacted_lots", {"run_id": run_id, "lot_ids": lot_ids, "roles": roles})


def _insert_impacted_shipments(session: Session, run_id, case_id, as_of, ship_ids, customer_ids) -> None:
    if ship_ids:
        params = {"run_id": run_id, "shipment_ids": ship_ids, "customer_ids": customer_ids}
        _sql(session, "insert_impacted_shipments", params)
    if _has_untracked_targets(session, case_id):
        _sql(session, "insert_untracked_shipments", {"run_id": run_id, "case_id": case_id, "as_of": as_of})


def _has_untracked_targets(session: Session, case_id: uuid.UUID) -> bool:
    """Whether the case targets an item that is not lot-tracked (its shipments are found by item)."""
    return bool(
        session.scalar(
            sa.select(sa.literal(True))
            .select_from(RecallCaseTarget)
            .join(Item, Item.id == RecallCaseTarget.item_id)
            .where(RecallCaseTarget.recall_case_id == case_id, sa.not_(Item.lot_tracked))
            .limit(1)
        )
    )


def latest_run(session: Session, case: RecallCase, *, required: bool = True) -> RecallTraceRun | None:
    """The case's computed run (there is at most one)."""
    run = session.scalar(
        sa.select(RecallTraceRun)
        .where(RecallTraceRun.recall_case_id == case.id, RecallTraceRun.status == "computed")
        .order_by(RecallTraceRun.computed_at.desc())
        .limit(1)
    )
    if run is None and required:
        raise InvalidInput(
            f"recall {case.recall_number} has no computed trace run; run `lotline recall trace {case.recall_number}`"
        )
    return run


def find_run(session: Session, run_id: uuid.UUID | str, case: RecallCase | None = None) -> RecallTraceRun:
    rid = catalog.as_uuid(run_id)
    run = session.get(RecallTraceRun, rid) if rid else None
    if run is None or (case is not None and run.recall_case_id != case.id):
        where = f" of recall {case.recall_number}" if case else ""
        raise NotFound(f"unknown trace run {run_id}{where}", kind="recall_trace_run", ref=str(run_id))
    return run


def list_runs(session: Session, case: RecallCase) -> list[dict]:
    lots = (
        sa.select(sa.func.count(sa.distinct(RecallImpactedLot.lot_id)))
        .where(RecallImpactedLot.recall_trace_run_id == RecallTraceRun.id)
        .scalar_subquery()
    )
    ships = (
        sa.select(sa.func.count())
        .where(RecallImpactedShipment.recall_trace_run_id == RecallTraceRun.id)
        .scalar_subquery()
    )
    customers = (
        sa.select(sa.func.count(sa.distinct(RecallImpactedShipment.customer_id)))
        .where(RecallImpactedShipment.recall_trace_run_id == RecallTraceRun.id)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(
            RecallTraceRun.id,
            RecallTraceRun.status,
            RecallTraceRun.as_of,
            RecallTraceRun.computed_at,
            lots.label("lots"),
            ships.label("shipments"),
            customers.label("customers"),
            RecallTraceRun.notes,
        )
        .where(RecallTraceRun.recall_case_id == case.id)
        .order_by(RecallTraceRun.computed_at, RecallTraceRun.id)
    )
    return [dict(r._mapping) for r in rows]


def run_lots(session: Session, run_id: uuid.UUID) -> list[dict]:
    """Impacted lots of a run with item, status, role and current on-hand."""
    on_hand = (
        sa.select(sa.func.coalesce(sa.func.sum(InventoryBalance.quantity), 0))
        .where(InventoryBalance.lot_id == RecallImpactedLot.lot_id)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(
            RecallImpactedLot.lot_id,
            Lot.lot_code,
            Item.sku,
            Item.name.label("item_name"),
            Item.uom,
            RecallImpactedLot.role,
            Lot.status,
            Lot.expires_at,
            on_hand.label("on_hand"),
        )
        .join(Lot, Lot.id == RecallImpactedLot.lot_id)
        .join(Item, Item.id == Lot.item_id)
        .where(RecallImpactedLot.recall_trace_run_id == run_id)
        .order_by(RecallImpactedLot.role.desc(), Item.sku, Lot.lot_code)
    )
    return [dict(r._mapping) for r in rows]


def run_shipments(session: Session, run_id: uuid.UUID) -> list[dict]:
    rows = session.execute(
        sa.select(
            RecallImpactedShipment.sales_order_shipment_id.label("shipment_id"),
            SalesOrder.number.label("sales_order_number"),
            SalesOrderShipment.shipped_at,
            Customer.id.label("customer_id"),
            Customer.code.label("customer_code"),
            Customer.name.label("customer_name"),
            Customer.contact_email,
        )
        .join(SalesOrderShipment, SalesOrderShipment.id == RecallImpactedShipment.sales_order_shipment_id)
        .join(SalesOrder, SalesOrder.id == SalesOrderShipment.sales_order_id)
        .join(Customer, Customer.id == RecallImpactedShipment.customer_id)
        .where(RecallImpactedShipment.recall_trace_run_id == run_id)
        .order_by(Customer.code, SalesOrderShipment.shipped_at, SalesOrder.number)
    )
    return [dict(r._mapping) for r in rows]


@dataclass(frozen=True)
class RunSets:
    """The id sets of a persisted run, handed to report SQL as arrays (see impacted_shipment_lines.sql)."""

    run: RecallTraceRun
    lots: list[uuid.UUID]  # every impacted lot, distinct
    recalled_lots: list[uuid.UUID]  # targets and downstream lots (what is actually recalled), distinct
    shipments: list[uuid.UUID]


def run_sets(session: Session, run: RecallTraceRun | uuid.UUID) -> RunSets:
    if not isinstance(run, RecallTraceRun):
        run = find_run(session, run)
    # Arrays, one row each: 10^4 ids come back as two values, not 10^4 rows.
    lots, recalled, shipments = session.execute(
        sa.text(
            """
            SELECT (SELECT coalesce(array_agg(DISTINCT lot_id), '{}') FROM recall_impacted_lots
                     WHERE recall_trace_run_id = :run),
                   (SELECT coalesce(array_agg(DISTINCT lot_id), '{}') FROM recall_impacted_lots
                     WHERE recall_trace_run_id = :run AND role <> 'upstream_component'),
                   (SELECT coalesce(array_agg(sales_order_shipment_id), '{}') FROM recall_impacted_shipments
                     WHERE recall_trace_run_id = :run)
            """
        ),
        {"run": run.id},
    ).one()
    return RunSets(run, list(lots), list(recalled), list(shipments))


def shipment_lines(session: Session, run: RecallTraceRun | uuid.UUID | RunSets) -> list[dict]:
    """What each impacted customer received of the recalled goods (lots, items, quantities)."""
    sets = run if isinstance(run, RunSets) else run_sets(session, run)
    params = {"shipment_ids": sets.shipments, "lot_ids": sets.recalled_lots}
    rows = _dicts(session, "impacted_shipment_lines", params)
    if _has_untracked_targets(session, sets.run.recall_case_id):
        params = {"case_id": sets.run.recall_case_id, "shipment_ids": sets.shipments}
        rows += _dicts(session, "impacted_untracked_lines", params)
        rows.sort(
            key=lambda r: (
                r["customer_code"],
                r["shipped_at"],
                r["sales_order_number"],
                r["sku"],
                r["lot_code"] or "",
            )
        )
    return rows


def diff_runs(session: Session, old_id: uuid.UUID, new_id: uuid.UUID) -> dict[str, list[dict]]:
    """What became impacted in ``new`` and what stopped being impacted since ``old``."""
    old, new = find_run(session, old_id), find_run(session, new_id)
    if old.recall_case_id != new.recall_case_id:
        raise InvalidInput("the two trace runs belong to different recall cases")
    return {
        key: _dicts(session, name, {"old": old.id, "new": new.id})
        for key, name in (("lots", "diff_lots"), ("shipments", "diff_shipments"))
    }


# --- actions -------------------------------------------------------------------------------------


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
    _require_status(case, ("active",), "plan actions")
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
        status="planned",
        lot_id=lot.id if lot else None,
        sales_order_shipment_id=shipment.id if shipment else None,
        notes=data.notes,
    )
    session.add(action)
    session.flush()
    return action


def plan_all(session: Session, ref: str | uuid.UUID) -> int:
    """The standard action set from the computed run, in one INSERT ... SELECT; returns how many.

    Every target or downstream lot that is not consumed: quarantine_lot when it has stock outside
    quarantine/scrap locations, else block_lot unless already blocked or quarantined; plus one
    case-level customer_notify (it drafts one notice per impacted customer). Actions already
    planned, in progress or done are skipped.
    """
    case = find_case(session, ref, lock="update")
    _require_status(case, ("active",), "plan actions")
    run = latest_run(session, case)
    sets = run_sets(session, run)
    params = {
        "case_id": case.id,
        "run_id": run.id,
        "lot_ids": sets.recalled_lots,
        "shipment_ids": sets.shipments,
    }
    return _sql(session, "plan_all", params).rowcount


def find_action(session: Session, action_id: uuid.UUID | str, *, lock: bool = False) -> RecallAction:
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
    lock = "update" if action.action_type == "customer_notify" else "share"
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
    _require_status(case, ("active",), "work on actions")
    _action_transition(action, "in_progress")
    action.status = "in_progress"
    action.updated_at = sa.func.now()
    session.flush()
    return action


def cancel_action(session: Session, action_id, reason: str | None = None) -> RecallAction:
    """planned|in_progress -> canceled; nothing moves. InvalidInput without a reason."""
    case, action = _lock_case_and_action(session, action_id)
    _require_status(case, ("active",), "change actions")
    audit.require_reason(session, reason, f"canceling a recall action of {case.recall_number}")
    _action_transition(action, "canceled")
    action.status = "canceled"
    _append_note(action, reason)
    action.updated_at = sa.func.now()
    session.flush()
    return action


def list_actions(session: Session, case: RecallCase, *, status: str | None = None) -> list[dict]:
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
    return [dict(r._mapping) for r in session.execute(query)]


def _check_window(case: RecallCase, occurred_at: datetime) -> None:
    end = case.closed_at or utcnow() + FUTURE_TOLERANCE
    if occurred_at < case.initiated_at or occurred_at > end:
        upper = case.closed_at.isoformat() if case.closed_at else "now"
        raise InvalidInput(
            f"occurred_at {occurred_at.isoformat()} is outside recall {case.recall_number}'s window "
            f"[{case.initiated_at.isoformat()}, {upper}]"
        )


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


def run_action(session: Session, action_id, data: ActionRun | None = None) -> RecallAction:
    """Carry out a planned or in-progress action and mark it completed (moves stock for lot actions)."""
    data = data or ActionRun()
    case, action = _lock_case_and_action(session, action_id)
    _require_status(case, ("active",), "carry out actions")
    _action_transition(action, "completed")
    occurred_at = data.occurred_at or utcnow()
    _check_window(case, occurred_at)
    tag = f"recall {case.recall_number}"
    movement = None
    if action.action_type == "customer_notify":
        customers = None
        if action.sales_order_shipment_id:
            customers = [session.get(SalesOrderShipment, action.sales_order_shipment_id).customer_id]
        draft_communications(session, case.id, DraftIn(channel=data.channel), customer_ids=customers)
    else:
        lot = session.get(Lot, action.lot_id)
        item = session.get(Item, lot.item_id)
        if action.action_type == "block_lot":
            lots_service.change_status(session, lot, LotStatusChange(status="blocked", reason=tag))
        elif action.action_type == "quarantine_lot":
            dest = _pick_location(session, data.location, "quarantine", f"quarantine lot {lot.lot_code}")
            # Status first: it locks the lot, so no shipment slips in between reading and moving.
            lots_service.change_status(session, lot, LotStatusChange(status="quarantine", reason=tag))
            rows = _balances(session, lot, kinds_out=HOLDING_KINDS, exclude=dest)
            movement = _move_all(
                session,
                "transfer",
                occurred_at,
                lot,
                item,
                rows,
                dest,
                f"{tag}: quarantine lot {lot.lot_code}",
            )
        elif action.action_type == "scrap_lot":
            lots_service.change_status(
                session, lot, LotStatusChange(status="consumed", reason=f"{tag}: scrapped")
            )
            rows = _balances(session, lot)
            movement = _move_all(
                session, "scrap", occurred_at, lot, item, rows, None, f"{tag}: scrap lot {lot.lot_code}"
            )
        elif action.action_type == "restock_lot":
            if lot.status not in ("quarantine", "blocked"):
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
            dest = _pick_location(session, data.location, "storage", f"restock lot {lot.lot_code}")
            # Active first: the posting service only lets active lots move into storage.
            lots_service.change_status(
                session, lot, LotStatusChange(status="active", reason=f"{tag}: restocked"), sign_release=False
            )
            rows = _balances(session, lot, kinds_in=("quarantine",))
            movement = _move_all(
                session, "transfer", occurred_at, lot, item, rows, dest, f"{tag}: restock lot {lot.lot_code}"
            )
    action.status = "completed"
    action.inventory_movement_id = movement.id if movement is not None else None
    if movement is None and action.action_type in ("quarantine_lot", "scrap_lot", "restock_lot"):
        _append_note(action, f"{occurred_at:%Y-%m-%d %H:%M} nothing on hand to move")
    _append_note(action, data.notes)
    action.updated_at = sa.func.now()
    session.flush()
    return action


# --- communications ------------------------------------------------------------------------------


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lotline.recalls", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["qty"] = lambda q: f"{Decimal(q).normalize():f}"
    return env


def render_notice(
    case: RecallCase, customer: dict, lines: list[dict], instructions: str | None
) -> tuple[str, str]:
    """Subject and plain-text body of a customer notice."""
    severity = (case.severity or "").upper()
    subject = (
        f"{'URGENT ' if case.severity in ('high', 'critical') else ''}product recall {case.recall_number}"
    )
    if severity:
        subject += f" ({severity})"
    subject += f" - {customer['customer_name']}"
    body = (
        _templates()
        .get_template("notice.txt.j2")
        .render(case=case, customer=customer, lines=lines, instructions=instructions)
    )
    return subject, body


def draft_communications(
    session: Session, ref: str | uuid.UUID, data: DraftIn, *, customer_ids: list[uuid.UUID] | None = None
) -> list[RecallCommunication]:
    """Draft one notice per impacted customer (of the computed run) and channel not yet drafted."""
    case = find_case(session, ref, lock="update")
    _require_status(case, ("draft", "active"), "draft notices")
    run = latest_run(session, case)
    lines = shipment_lines(session, run)
    by_customer: dict[uuid.UUID, list[dict]] = defaultdict(list)
    for row in lines:
        by_customer[row["customer_id"]].append(row)
    # Impacted shipments with no listed line (e.g. only upstream lots) still reach their customer.
    for row in run_shipments(session, run.id):
        by_customer.setdefault(row["customer_id"], [])
    wanted = set(by_customer)
    if data.customers:
        named = catalog.resolve_many(session, Customer, data.customers, context="notice")
        for c in named.values():
            if c.id not in by_customer:
                raise InvalidInput(
                    f"customer {c.code} is not impacted by recall {case.recall_number}'s trace run"
                )
        wanted = {c.id for c in named.values()}
    if customer_ids is not None:
        wanted &= set(customer_ids)
    existing = set(
        session.scalars(
            sa.select(RecallCommunication.customer_id).where(
                RecallCommunication.recall_case_id == case.id, RecallCommunication.channel == data.channel
            )
        )
    )
    customers = {
        c.id: c for c in session.scalars(sa.select(Customer).where(Customer.id.in_(list(wanted - existing))))
    }
    created = []
    for cid in sorted(customers, key=lambda x: customers[x].code):
        c = customers[cid]
        info = {
            "customer_code": c.code,
            "customer_name": c.name,
            "contact_email": c.contact_email,
            "address": c.address,
        }
        subject, body = render_notice(case, info, by_customer[cid], data.instructions)
        created.append(
            RecallCommunication(
                recall_case_id=case.id,
                customer_id=cid,
                channel=data.channel,
                status="draft",
                subject=subject,
                body=body,
            )
        )
    session.add_all(created)
    session.flush()
    return created


def find_communication(session: Session, comm_id, *, lock: bool = False) -> RecallCommunication:
    cid = catalog.as_uuid(comm_id)
    comm = None
    if cid:
        query = sa.select(RecallCommunication).where(RecallCommunication.id == cid)
        if lock:
            query = query.with_for_update()
        comm = session.scalar(query.execution_options(populate_existing=True))
    if comm is None:
        raise NotFound(
            f"unknown recall communication {comm_id}", kind="recall_communication", ref=str(comm_id)
        )
    return comm


def record_communication(session: Session, comm_id, data: RecordIn) -> RecallCommunication:
    """Record the outcome of a phone call, letter or portal notice done by hand."""
    comm = find_communication(session, comm_id, lock=True)
    case = find_case(session, comm.recall_case_id)
    _require_status(case, ("active",), "record notices")
    if comm.channel == "email":
        raise InvalidInput(
            "email notices are sent over SMTP with `lotline recall notice send`, not recorded by hand"
        )
    if comm.status == "sent":
        raise InvalidStateTransition(f"{comm.channel} notice {comm.id} is already recorded as sent")
    comm.status = data.status
    if data.status == "sent":
        sent_at = _not_future(data.sent_at or utcnow(), "sent_at")
        _check_window(case, sent_at)
        comm.sent_at = sent_at
        comm.external_ref = data.reference
    else:
        comm.external_ref = f"failed: {data.reference or 'no reason given'}"
    session.flush()
    return comm


def list_communications(session: Session, case: RecallCase, *, status: str | None = None) -> list[dict]:
    query = (
        sa.select(
            RecallCommunication.id,
            RecallCommunication.channel,
            RecallCommunication.status,
            Customer.code.label("customer_code"),
            Customer.name.label("customer_name"),
            Customer.contact_email,
            RecallCommunication.subject,
            RecallCommunication.sent_at,
            RecallCommunication.external_ref,
            RecallCommunication.created_at,
        )
        .outerjoin(Customer, Customer.id == RecallCommunication.customer_id)
        .where(RecallCommunication.recall_case_id == case.id)
        .order_by(Customer.code, RecallCommunication.channel)
    )
    if status:
        query = query.where(RecallCommunication.status == status)
    return [dict(r._mapping) for r in session.execute(query)]


# --- effectiveness, exports, report --------------------------------------------------------------


def effectiveness(session: Session, ref: str | uuid.UUID) -> dict[str, Any]:
    """21 CFR 7.53 status report figures: customers notified, quantities recovered, timings."""
    case = find_case(session, ref)
    run = latest_run(session, case, required=False)
    impacted = set()
    if run is not None:
        impacted = set(
            session.scalars(
                sa.select(RecallImpactedShipment.customer_id).where(
                    RecallImpactedShipment.recall_trace_run_id == run.id
                )
            )
        )
    comm_rows = session.execute(
        sa.select(RecallCommunication.customer_id, RecallCommunication.status).where(
            RecallCommunication.recall_case_id == case.id
        )
    ).all()
    sent = {c for c, s in comm_rows if s == "sent"}
    failed = {c for c, s in comm_rows if s == "failed"} - sent
    quantities = []
    if run is not None:
        sets = run_sets(session, run)
        quantities = [
            dict(r)
            for r in _sql(
                session,
                "effectiveness_quantities",
                {
                    "case_id": case.id,
                    "lot_ids": sets.recalled_lots,
                    "shipment_ids": sets.shipments,
                    "as_of": run.as_of,
                    "since": case.initiated_at or run.as_of,
                },
            ).mappings()
        ]
        for q in quantities:
            q["recovered_pct"] = (
                (q["recovered"] * 100 / q["impacted"]).quantize(Decimal("0.1")) if q["impacted"] else None
            )
    first_run = session.scalar(
        sa.select(sa.func.min(RecallTraceRun.computed_at)).where(RecallTraceRun.recall_case_id == case.id)
    )
    last_notice = session.scalar(
        sa.select(sa.func.max(RecallCommunication.sent_at)).where(
            RecallCommunication.recall_case_id == case.id, RecallCommunication.status == "sent"
        )
    )
    actions = dict(
        session.execute(
            sa.select(RecallAction.status, sa.func.count())
            .where(RecallAction.recall_case_id == case.id)
            .group_by(RecallAction.status)
        ).all()
    )

    def since_initiation(t: datetime | None) -> float | None:
        if t is None or case.initiated_at is None:
            return None
        return max((t - case.initiated_at).total_seconds(), 0.0)

    return {
        "recall_number": case.recall_number,
        "status": case.status,
        "trace_run_id": run.id if run else None,
        "customers_impacted": len(impacted),
        "customers_notified": len(sent & impacted),
        "customers_failed": len(failed & impacted),
        "customers_not_notified": len(impacted - sent),
        "quantities": quantities,
        "initiated_at": case.initiated_at,
        "first_trace_run_at": first_run,
        "last_notice_at": last_notice,
        "seconds_to_first_trace_run": since_initiation(first_run),
        "seconds_to_last_notice": since_initiation(last_notice),
        "actions": {k: actions.get(k, 0) for k in ACTION_TRANSITIONS},
    }


@no_gc_pauses()
def fsma_events(session: Session, ref: str | uuid.UUID, run_id=None) -> dict[str, list[dict]]:
    """Rows of the FSMA 204 sortable spreadsheet (receiving, transformation, shipping) of a run."""
    case = find_case(session, ref)
    run = find_run(session, run_id, case) if run_id else latest_run(session, case)
    sets = run_sets(session, run)
    params = {"lot_ids": sets.lots, "as_of": run.as_of}
    return {
        "receiving": _dicts(session, "fsma_receiving", params),
        "transformation": _dicts(session, "fsma_transformation", params),
        "shipping": shipment_lines(session, sets),
    }


def case_dict(case: RecallCase) -> dict[str, Any]:
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


@no_gc_pauses()
def report_data(session: Session, ref: str | uuid.UUID, *, lines: list[dict] | None = None) -> dict[str, Any]:
    """Everything the recall report shows, gathered in the caller's (snapshot) transaction.

    ``lines``: the run's shipment lines when the caller already has them (the drill exports first).
    """
    case = find_case(session, ref)
    run = latest_run(session, case, required=False)
    runs = list_runs(session, case)
    actions = list_actions(session, case)
    comms = list_communications(session, case)
    lots = run_lots(session, run.id) if run else []
    if lines is None:
        lines = shipment_lines(session, run) if run else []
    # Impacted customers and what each received, per product and lot (shipment-level detail is in
    # the FSMA export); shipment counts per customer come from the run itself.
    shipments_per_customer: dict[uuid.UUID, int] = {}
    if run is not None:
        shipments_per_customer = dict(
            session.execute(
                sa.select(RecallImpactedShipment.customer_id, sa.func.count())
                .where(RecallImpactedShipment.recall_trace_run_id == run.id)
                .group_by(RecallImpactedShipment.customer_id)
            ).all()
        )
    customers: dict[uuid.UUID, dict] = {}
    for line in lines:
        c = customers.get(line["customer_id"])
        if c is None:
            c = customers[line["customer_id"]] = {
                "customer_code": line["customer_code"],
                "customer_name": line["customer_name"],
                "contact_email": line["contact_email"],
                "shipments": shipments_per_customer.get(line["customer_id"], 0),
                "first_shipped_at": line["shipped_at"],
                "last_shipped_at": line["shipped_at"],
                "products": {},
            }
        c["first_shipped_at"] = min(c["first_shipped_at"], line["shipped_at"])
        c["last_shipped_at"] = max(c["last_shipped_at"], line["shipped_at"])
        key = (line["sku"], line["lot_code"], line["uom"])
        p = c["products"].get(key)
        if p is None:
            p = c["products"][key] = {
                "sku": line["sku"],
                "item_name": line["item_name"],
                "lot_code": line["lot_code"],
                "uom": line["uom"],
                "quantity": Decimal(0),
                "shipments": 0,
            }
        p["quantity"] += line["quantity"]
        p["shipments"] += 1
    missing = [cid for cid in shipments_per_customer if cid not in customers]
    if missing:  # impacted through a shipment with no listed line: still an impacted customer
        for cust in session.scalars(sa.select(Customer).where(Customer.id.in_(missing))):
            customers[cust.id] = {
                "customer_code": cust.code,
                "customer_name": cust.name,
                "contact_email": cust.contact_email,
                "shipments": shipments_per_customer[cust.id],
                "first_shipped_at": None,
                "last_shipped_at": None,
                "products": {},
            }
    for c in customers.values():
        c["products"] = sorted(c["products"].values(), key=lambda p: (p["sku"], p["lot_code"] or ""))
    timeline = [{"at": case.created_at, "event": "case created (draft)"}]
    if case.initiated_at:
        timeline.append({"at": case.initiated_at, "event": "recall initiated (active)"})
    for r in runs:
        timeline.append(
            {
                "at": r["computed_at"],
                "event": f"trace run as of {r['as_of']:%Y-%m-%d %H:%M}: {r['lots']} lots, "
                f"{r['customers']} customers ({r['status']})",
            }
        )
    # Actions done one by one are listed one by one; those closed together (plan canceled with
    # the case) as one event.
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for a in actions:
        if a["status"] in ("completed", "canceled"):
            grouped[(a["updated_at"], a["action_type"], a["status"])].append(a)
    for (at_, action_type, status), group in grouped.items():
        if len(group) == 1:
            what = group[0]["lot_code"] or group[0]["customer_code"] or ""
            event = f"{action_type} {what} {status}"
        else:
            event = f"{len(group)} {action_type} actions {status}"
        timeline.append({"at": at_, "event": event})
    for c in comms:
        if c["status"] == "sent":
            timeline.append(
                {"at": c["sent_at"], "event": f"{c['channel']} notice sent to {c['customer_code']}"}
            )
    if case.closed_at:
        timeline.append({"at": case.closed_at, "event": f"recall {case.status}"})
    timeline.sort(key=lambda e: e["at"])
    return {
        "case": case_dict(case),
        # 21 CFR 11.50(b): printed name, time and meaning of every signature on the case
        "signatures": signatures.signatures_of(session, "recall_cases", case.id),
        "generated_at": utcnow(),
        "timeline": timeline,
        "targets": list_targets(session, case),
        "trace_runs": runs,
        "trace_run": {"id": run.id, "as_of": run.as_of, "computed_at": run.computed_at, "notes": run.notes}
        if run
        else None,
        "impacted_lots": lots,
        "impacted_customers": sorted(customers.values(), key=lambda c: c["customer_code"]),
        "actions": actions,
        "communications": comms,
        "effectiveness": effectiveness(session, case.id),
    }
