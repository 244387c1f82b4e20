"""Recall trace runs: computing and persisting a run, reading it back, and comparing two runs.

Invariants kept here (the spec's service-layer invariants 5 and 7):
- A trace run is computed in ONE transaction: the case row is locked FOR UPDATE first (concurrent
  computations queue), the previous computed run becomes superseded, and the run, its impacted lots
  (with roles) and impacted shipments (with customers) are inserted set-based — by one statement
  that walks the genealogy as the trace engine does (its closure and shipments semantics and
  planner settings) and inserts straight from the walk, so a run of 10^4 lots never builds them in
  Python (sql/insert_run_closure.sql). So exactly one run per
  case is computed, and a failure anywhere leaves nothing behind. Runs are never edited otherwise.
- What a run impacted is read back as id arrays (``RunSets``) handed to the report SQL, never a
  query per lot.

Raises: NotFound, InvalidInput, InvalidStateTransition.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.db import local_settings, pages
from lotline.errors import InvalidInput, NotFound
from lotline.models import (
    Customer,
    Item,
    RecallCase,
    RecallCaseTarget,
    RecallImpactedLot,
    RecallImpactedShipment,
    RecallTraceRun,
    SalesOrder,
    SalesOrderShipment,
)
from lotline.perf import no_gc_pauses
from lotline.recalls import consignees
from lotline.recalls.cases import find_case
from lotline.recalls.common import not_future, require_status, run_sql, sql_dicts, sql_rows, tuned
from lotline.recalls.schemas import RunIn
from lotline.trace import service as trace
from lotline.types import utcnow


@no_gc_pauses()
@tuned
def compute_run(
    session: Session,
    ref: str | uuid.UUID,
    data: RunIn | None = None,
    *,
    after_insert: Callable[[RecallTraceRun], None] | None = None,
) -> RecallTraceRun:
    """Trace the case's targets as of a time and persist the run (see module doc: invariants 5, 7).

    ``after_insert(run)`` is called in the transaction once the run's impacted lots and shipments
    are inserted, before the consignees are synced and the transaction ends (the mock drill starts
    its export from the run's id sets there)."""
    data = data or RunIn()
    # FOR UPDATE first: a concurrent computation for this case waits here, then supersedes ours.
    case = find_case(session, ref, lock="update")
    require_status(case, ("draft", "active"), "be traced")
    as_of = not_future(data.as_of or utcnow(), "as_of")
    n_targets = session.scalar(
        sa.select(sa.func.count())
        .select_from(RecallCaseTarget)
        .where(RecallCaseTarget.recall_case_id == case.id)
    )
    if not n_targets:
        raise InvalidInput(f"recall {case.recall_number} has no targets; add a lot or item first")
    start = [r[0] for r in sql_rows(session, "start_lots", {"case_id": case.id, "as_of": as_of})]
    max_depth = trace.validate_max_depth(data.max_depth)
    trace.validate_direction(data.direction)

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
    # Needed for ordering: the set-based inserts below run through the SQL runner, which does not
    # flush, and their rows reference the run (its id, its foreign key).
    session.flush()
    if start:
        _insert_impacted(session, run.id, start, data.direction, as_of, max_depth)
    if _has_untracked_targets(session, case.id):
        run_sql(session, "insert_untracked_shipments", {"run_id": run.id, "case_id": case.id, "as_of": as_of})
    if after_insert is not None:
        after_insert(run)
    session.refresh(run)
    # the run's impacted customers become the case's consignees (added, retired, revived)
    consignees.sync_from_run(session, case, run)
    return run


def _insert_impacted(session: Session, run_id, start, direction: str, as_of, max_depth: int | None) -> None:
    """The impacted lots (with roles) and shipments (with customers) of the targets' trace, inserted
    straight from the genealogy by one statement: the trace engine's closure and shipments, with
    its planner settings, but only ids and roles — nothing is built in Python."""
    params: dict[str, Any] = {
        "run_id": run_id,
        "targets": start,
        "forward_start": start if direction in ("forward", "both") else [],
        "backward_start": start if direction in ("backward", "both") else [],
        "as_of": as_of,
    }
    name = "insert_run_closure"
    if max_depth is not None:
        params["max_depth"] = max_depth
        name = "insert_run_closure_bounded"
    with local_settings(session, **trace.TRACE_SETTINGS):
        sql_rows(session, name, params)


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


@overload
def latest_run(session: Session, case: RecallCase, *, required: Literal[True] = True) -> RecallTraceRun: ...
@overload
def latest_run(session: Session, case: RecallCase, *, required: bool) -> RecallTraceRun | None: ...
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
    """A trace run by id (of ``case`` when given); NotFound otherwise."""
    rid = catalog.as_uuid(run_id)
    run = session.get(RecallTraceRun, rid) if rid else None
    if run is None or (case is not None and run.recall_case_id != case.id):
        where = f" of recall {case.recall_number}" if case else ""
        raise NotFound(f"unknown trace run {run_id}{where}", kind="recall_trace_run", ref=str(run_id))
    return run


def _runs_query(case: RecallCase) -> sa.Select:
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
    return (
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


def list_runs(session: Session, case: RecallCase) -> list[dict]:
    """The case's trace runs, oldest first, with their lot, shipment and customer counts."""
    return [dict(r._mapping) for r in session.execute(_runs_query(case))]


def runs_page(session: Session, case: RecallCase, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of ``list_runs``, oldest first."""
    return pages.page(session, _runs_query(case), [RecallTraceRun.computed_at, RecallTraceRun.id],
                      lambda r: (r.computed_at, r.id), after=after, limit=limit)


def run_lots(session: Session, run_id: uuid.UUID) -> list[dict]:
    """Impacted lots of a run with item, status, role and current on-hand (one statement)."""
    return sql_dicts(session, "run_lots", {"run_id": run_id})


def run_shipments(session: Session, run_id: uuid.UUID) -> list[dict]:
    """Impacted shipments of a run with their order and customer, by customer and time."""
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
    """The id sets of a persisted run (one statement, three arrays)."""
    if not isinstance(run, RecallTraceRun):
        run = find_run(session, run)
    ((lots, recalled, shipments),) = sql_rows(session, "run_sets", {"run_id": run.id})
    return RunSets(run, list(lots), list(recalled), list(shipments))


@tuned
def shipment_lines(session: Session, run: RecallTraceRun | uuid.UUID | RunSets) -> list[dict]:
    """What each impacted customer received of the recalled goods (lots, items, quantities)."""
    sets = run if isinstance(run, RunSets) else run_sets(session, run)
    params: dict[str, Any] = {"shipment_ids": sets.shipments, "lot_ids": sets.recalled_lots}
    rows = sql_dicts(session, "impacted_shipment_lines", params)
    if _has_untracked_targets(session, sets.run.recall_case_id):
        params = {"case_id": sets.run.recall_case_id, "shipment_ids": sets.shipments}
        rows += sql_dicts(session, "impacted_untracked_lines", params)
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


@tuned
def diff_runs(session: Session, old_id: uuid.UUID, new_id: uuid.UUID) -> dict[str, list[dict]]:
    """What became impacted in ``new`` and what stopped being impacted since ``old``."""
    old, new = find_run(session, old_id), find_run(session, new_id)
    if old.recall_case_id != new.recall_case_id:
        raise InvalidInput("the two trace runs belong to different recall cases")
    return {
        key: sql_dicts(session, name, {"old": old.id, "new": new.id})
        for key, name in (("lots", "diff_lots"), ("shipments", "diff_shipments"))
    }
