"""Recall status: the 21 CFR 7.53 status-report figures (effectiveness of the recall so far).

Customers impacted by the computed run against those notified (a sent notice on any channel) or
whose notice failed, quantities impacted and recovered per unit (quarantined, scrapped, returned
since initiation), the timings from initiation to the first trace run and the last notice, and the
actions by status. Read-only.

Raises: NotFound.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.db import sql
from lotline.models import (
    RecallAction,
    RecallCase,
    RecallCommunication,
    RecallImpactedShipment,
    RecallTraceRun,
)
from lotline.recalls.cases import find_case
from lotline.recalls.common import ACTION_TRANSITIONS, tuned
from lotline.recalls.runs import latest_run, run_sets
from lotline.vocab import NoticeStatus


@tuned
def effectiveness(session: Session, ref: str | uuid.UUID) -> dict[str, Any]:
    """21 CFR 7.53 status report figures: customers notified, quantities recovered, timings."""
    case = find_case(session, ref)
    run = latest_run(session, case, required=False)
    impacted: set[uuid.UUID] = set()
    quantities: list[dict[str, Any]] = []
    if run is not None:
        impacted = set(
            session.scalars(
                sa.select(RecallImpactedShipment.customer_id).where(
                    RecallImpactedShipment.recall_trace_run_id == run.id
                )
            )
        )
        sets = run_sets(session, run)
        statement, params = quantities_statement(case, run, sets.recalled_lots, sets.shipments)
        quantities = finish_quantities(sql.rows(session, statement, params, kind="dict"))
    return summary(session, case, run, impacted, quantities)


def quantities_statement(
    case: RecallCase,
    run: RecallTraceRun,
    recalled_lots: Sequence[uuid.UUID] | str,
    shipments: Sequence[uuid.UUID] | str,
) -> tuple[str, dict[str, Any]]:
    """The quantities statement of the case's computed run and its parameters (the run's target and
    downstream lots and impacted shipments, as uuid lists or array literals): the report sends it
    in a pipeline beside its other statements."""
    params = {
        "case_id": case.id,
        "lot_ids": recalled_lots,
        "shipment_ids": shipments,
        "as_of": run.as_of,
        "since": case.initiated_at or run.as_of,
    }
    return sql.load_sql("lotline.recalls", "effectiveness_quantities"), params


def finish_quantities(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The quantities statement's rows with their recovered share (percent, one decimal)."""
    for q in rows:
        q["recovered_pct"] = (
            (q["recovered"] * 100 / q["impacted"]).quantize(Decimal("0.1")) if q["impacted"] else None
        )
    return rows


def summary(
    session: Session,
    case: RecallCase,
    run: RecallTraceRun | None,
    impacted: set[uuid.UUID],
    quantities: list[dict[str, Any]],
) -> dict[str, Any]:
    """The status report figures of ``case`` from its run's impacted customers and quantities."""
    comm_rows = session.execute(
        sa.select(RecallCommunication.customer_id, RecallCommunication.status).where(
            RecallCommunication.recall_case_id == case.id
        )
    ).all()
    sent = {c for c, s in comm_rows if s == NoticeStatus.SENT}
    failed = {c for c, s in comm_rows if s == NoticeStatus.FAILED} - sent
    first_run = session.scalar(
        sa.select(sa.func.min(RecallTraceRun.computed_at)).where(RecallTraceRun.recall_case_id == case.id)
    )
    last_notice = session.scalar(
        sa.select(sa.func.max(RecallCommunication.sent_at)).where(
            RecallCommunication.recall_case_id == case.id, RecallCommunication.status == NoticeStatus.SENT
        )
    )
    actions: dict[str, int] = {
        status: n
        for status, n in session.execute(
            sa.select(RecallAction.status, sa.func.count())
            .where(RecallAction.recall_case_id == case.id)
            .group_by(RecallAction.status)
        )
    }

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
