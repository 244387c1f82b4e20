"""21 CFR 7.53 recall status reports: immutable, numbered snapshots of a case's figures.

A report is issued (by a user, or by the worker on the case's cadence), stored once with every
figure as it stood, plus the changes since the previous report, and never recomputed: the table
refuses UPDATE. Reading a report returns what was issued, whatever happened since.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.db import pages
from lotline.errors import InvalidStateTransition, NotFound
from lotline.models import RecallCase, RecallStatusReport
from lotline.recalls import checks
from lotline.recalls import strategy as strategy_mod
from lotline.serialize import to_jsonable
from lotline.types import utcnow
from lotline.vocab import RecallStatus


def _effectiveness(session: Session, case: RecallCase) -> dict[str, Any]:
    from lotline.recalls import service  # noqa: PLC0415 — the façade imports this module's siblings

    return service.effectiveness(session, case.id)


def current_figures(session: Session, case: RecallCase) -> dict[str, Any]:
    """Everything a 7.53 report states, as of now (JSON-ready)."""
    eff = _effectiveness(session, case)
    return to_jsonable({
        "recall_number": case.recall_number,
        "status": case.status,
        "customers_impacted": eff["customers_impacted"],
        "customers_notified": eff["customers_notified"],
        "customers_failed": eff["customers_failed"],
        "customers_not_notified": eff["customers_not_notified"],
        "quantities": eff["quantities"],
        "consignees": checks.consignee_figures(session, case),
        "actions": eff["actions"],
    })


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(v, f"{prefix}{k}."))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            key = v.get("uom") if isinstance(v, dict) and "uom" in v else str(i)
            out.update(_leaves(v, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def changes(previous: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    """Every figure that differs from the previous report: {name: {"before", "after", "delta"?}}."""
    if previous is None:
        return {}
    before, after = _leaves(previous), _leaves(now)
    out: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if b == a:
            continue
        entry: dict[str, Any] = {"before": b, "after": a}
        try:
            if b is not None and a is not None and not isinstance(a, bool):
                entry["delta"] = str(Decimal(str(a)) - Decimal(str(b)))
        except InvalidOperation:
            pass
        out[key] = entry
    return out


def issue(session: Session, case: RecallCase, *, issued_by: str | None) -> RecallStatusReport:
    """Issue the next status report of an active case (the case row is locked by the caller)."""
    if case.status != RecallStatus.ACTIVE:
        raise InvalidStateTransition(f"recall {case.recall_number} is {case.status}: status reports are issued while it is active")
    last = session.scalar(
        sa.select(RecallStatusReport)
        .where(RecallStatusReport.recall_case_id == case.id)
        .order_by(RecallStatusReport.seq.desc())
        .limit(1)
    )
    figures = current_figures(session, case)
    report = RecallStatusReport(
        recall_case_id=case.id,
        seq=(last.seq + 1) if last else 1,
        issued_by=issued_by,
        figures=figures,
        changes=changes(last.figures if last else None, figures),
    )
    session.add(report)
    session.flush()
    return report


def due(session: Session, case: RecallCase) -> bool:
    """Whether the case's cadence asks for a report now (never issued, or the interval has passed)."""
    strat = strategy_mod.get(session, case)
    if case.status != RecallStatus.ACTIVE or strat is None or strat.status_report_interval_days is None:
        return False
    last = session.scalar(
        sa.select(sa.func.max(RecallStatusReport.issued_at)).where(RecallStatusReport.recall_case_id == case.id)
    )
    return last is None or last + timedelta(days=strat.status_report_interval_days) <= utcnow()


def list_reports(session: Session, case: RecallCase) -> list[dict[str, Any]]:
    return [
        as_dict(r)
        for r in session.scalars(
            sa.select(RecallStatusReport).where(RecallStatusReport.recall_case_id == case.id).order_by(RecallStatusReport.seq)
        )
    ]


def reports_page(session: Session, case: RecallCase, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of (report,) rows by number."""
    query = sa.select(RecallStatusReport).where(RecallStatusReport.recall_case_id == case.id)
    return pages.page(session, query, [RecallStatusReport.seq], lambda r: (r[0].seq,), after=after, limit=limit)


def get(session: Session, case: RecallCase, seq: int) -> dict[str, Any]:
    report = session.scalar(
        sa.select(RecallStatusReport).where(RecallStatusReport.recall_case_id == case.id, RecallStatusReport.seq == seq)
    )
    if report is None:
        raise NotFound(f"recall {case.recall_number} has no status report #{seq}", kind="status_report")
    return as_dict(report)


def as_dict(r: RecallStatusReport) -> dict[str, Any]:
    return {"seq": r.seq, "issued_at": r.issued_at, "issued_by": r.issued_by, "figures": r.figures, "changes": r.changes}
