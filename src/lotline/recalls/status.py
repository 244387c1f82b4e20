"""Recall status: the 21 CFR 7.53 status-report figures (effectiveness of the recall so far).

Customers impacted by the computed run against those notified (a sent notice on any channel) or
whose notice failed, quantities impacted and recovered per unit (quarantined, scrapped, returned
since initiation), the timings from initiation to the first trace run and the last notice, and the
actions by status. Read-only.

Raises: NotFound.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.models import RecallAction, RecallCommunication, RecallImpactedShipment, RecallTraceRun
from lotline.recalls.cases import find_case
from lotline.recalls.common import ACTION_TRANSITIONS, sql_dicts, tuned
from lotline.recalls.runs import latest_run, run_sets
from lotline.vocab import NoticeStatus


@tuned
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
    sent = {c for c, s in comm_rows if s == NoticeStatus.SENT}
    failed = {c for c, s in comm_rows if s == NoticeStatus.FAILED} - sent
    quantities = []
    if run is not None:
        sets = run_sets(session, run)
        quantities = sql_dicts(
            session,
            "effectiveness_quantities",
            {
                "case_id": case.id,
                "lot_ids": sets.recalled_lots,
                "shipment_ids": sets.shipments,
                "as_of": run.as_of,
                "since": case.initiated_at or run.as_of,
            },
        )
        for q in quantities:
            q["recovered_pct"] = (
                (q["recovered"] * 100 / q["impacted"]).quantize(Decimal("0.1")) if q["impacted"] else None
            )
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
