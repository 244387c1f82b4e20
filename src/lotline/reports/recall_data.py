"""The data the recall exports show, gathered from the database for the pure exporters beside it.

``fsma_events`` gathers the critical tracking events of a trace run for ``fsma204`` (``trace_fsma_events``
those of a trace taken on the spot); ``report_data``
everything the recall report shows for ``recall_report``. Both read in the caller's transaction
(an API read session or ``db.read_snapshot()``, so every part is from one snapshot) and write
nothing; the exporters stay pure functions over what these return.

Raises: NotFound, InvalidInput (no computed trace run).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.auth import signatures
from lotline.db import sql
from lotline.models import Customer, RecallCase, RecallImpactedShipment, RecallTraceRun
from lotline.perf import no_gc_pauses
from lotline.recalls.actions import list_actions
from lotline.recalls.cases import case_dict, find_case, list_targets
from lotline.recalls.common import sql_dicts, tuned
from lotline.recalls.communications import list_communications
from lotline.recalls.runs import find_run, latest_run, list_runs, run_lots, run_sets, shipment_lines
from lotline.recalls.status import effectiveness
from lotline.trace.service import TraceResult
from lotline.types import utcnow
from lotline.vocab import ActionStatus, LotRole, NoticeStatus


@no_gc_pauses()
@tuned
def fsma_events(session: Session, ref: str | uuid.UUID, run_id=None) -> dict[str, list[dict]]:
    """Rows of the FSMA 204 sortable spreadsheet (receiving, transformation, shipping) of a run."""
    case = find_case(session, ref)
    run = find_run(session, run_id, case) if run_id else latest_run(session, case)
    sets = run_sets(session, run)
    params = {"lot_ids": sets.lots, "as_of": run.as_of}
    return {
        "receiving": sql_dicts(session, "fsma_receiving", params),
        "transformation": sql_dicts(session, "fsma_transformation", params),
        "shipping": shipment_lines(session, sets),
    }


@tuned
def trace_fsma_events(session: Session, result: TraceResult) -> dict[str, list[dict]]:
    """The same spreadsheet rows for a trace taken on the spot (the trace view's download): its lots'
    receiving and transformation events up to its as_of, and what its shipments carried of its
    target and downstream lots — what a recall run of the same lots would list."""
    shipped_lots = sorted({x.lot_id for x in result.lots if x.role != LotRole.UPSTREAM_COMPONENT}, key=str)
    params = {"lot_ids": sorted({x.lot_id for x in result.lots}, key=str), "as_of": result.as_of}
    shipments = sorted({s.sales_order_shipment_id for s in result.shipments}, key=str)
    return {
        "receiving": sql_dicts(session, "fsma_receiving", params),
        "transformation": sql_dicts(session, "fsma_transformation", params),
        "shipping": sql_dicts(session, "impacted_shipment_lines", {"shipment_ids": shipments, "lot_ids": shipped_lots}),
    }


def _impacted_customers(session: Session, run: RecallTraceRun | None) -> list[dict]:
    """Impacted customers by code, each with what it received per product and lot."""
    # Impacted customers and what each received, per product and lot, summed in the server
    # (shipment-level detail is in the FSMA export); shipment counts per customer come from the run.
    if run is None:
        return []
    customers: dict[uuid.UUID, dict] = {}
    shipments_per_customer: dict[uuid.UUID, int] = {
        customer_id: n
        for customer_id, n in session.execute(
            sa.select(RecallImpactedShipment.customer_id, sa.func.count())
            .where(RecallImpactedShipment.recall_trace_run_id == run.id)
            .group_by(RecallImpactedShipment.customer_id)
        )
    }
    _, recalled, shipments = sql.one(
        session, sql.load_sql("lotline.reports", "fsma204_run_sets"), {"run_id": run.id}, kind="tuple"
    )
    params = {"shipment_ids": shipments, "shipped_lot_ids": recalled, "case_id": run.recall_case_id}
    for row in sql.rows(session, sql.load_sql("lotline.reports", "impacted_customer_products"), params, kind="dict"):
        c = customers.get(row["customer_id"])
        if c is None:
            c = customers[row["customer_id"]] = {
                "customer_code": row["customer_code"],
                "customer_name": row["customer_name"],
                "contact_email": row["contact_email"],
                "shipments": shipments_per_customer.get(row["customer_id"], 0),
                "first_shipped_at": row["first_shipped_at"],
                "last_shipped_at": row["last_shipped_at"],
                "products": [],
            }
        c["first_shipped_at"] = min(c["first_shipped_at"], row["first_shipped_at"])
        c["last_shipped_at"] = max(c["last_shipped_at"], row["last_shipped_at"])
        c["products"].append(
            {
                "sku": row["sku"],
                "item_name": row["item_name"],
                "lot_code": row["lot_code"],
                "uom": row["uom"],
                "quantity": row["quantity"],
                "shipments": row["shipments"],
            }
        )
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
                "products": [],
            }
    for c in customers.values():
        c["products"].sort(key=lambda p: (p["sku"], p["lot_code"] or ""))
    return sorted(customers.values(), key=lambda c: c["customer_code"])


def _timeline(case: RecallCase, runs: list[dict], actions: list[dict], comms: list[dict]) -> list[dict]:
    """The case's events in time order: lifecycle, trace runs, actions closed, notices sent."""
    timeline: list[dict[str, Any]] = [{"at": case.created_at, "event": "case created (draft)"}]
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
        if a["status"] in (ActionStatus.COMPLETED, ActionStatus.CANCELED):
            grouped[(a["updated_at"], a["action_type"], a["status"])].append(a)
    for (at_, action_type, status), group in grouped.items():
        if len(group) == 1:
            what = group[0]["lot_code"] or group[0]["customer_code"] or ""
            event = f"{action_type} {what} {status}"
        else:
            event = f"{len(group)} {action_type} actions {status}"
        timeline.append({"at": at_, "event": event})
    for c in comms:
        if c["status"] == NoticeStatus.SENT:
            timeline.append(
                {"at": c["sent_at"], "event": f"{c['channel']} notice sent to {c['customer_code']}"}
            )
    if case.closed_at:
        timeline.append({"at": case.closed_at, "event": f"recall {case.status}"})
    timeline.sort(key=lambda e: e["at"])
    return timeline


@no_gc_pauses()
@tuned
def report_data(session: Session, ref: str | uuid.UUID) -> dict[str, Any]:
    """Everything the recall report shows, gathered in the caller's (snapshot) transaction."""
    case = find_case(session, ref)
    run = latest_run(session, case, required=False)
    runs = list_runs(session, case)
    actions = list_actions(session, case)
    comms = list_communications(session, case)
    lots = run_lots(session, run.id) if run else []
    customers = _impacted_customers(session, run)
    timeline = _timeline(case, runs, actions, comms)
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
        "impacted_customers": customers,
        "actions": actions,
        "communications": comms,
        "effectiveness": effectiveness(session, case.id),
    }
