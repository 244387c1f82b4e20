"""The data the recall exports show, gathered from the database for the pure exporters beside it.

``report_data`` gathers everything the recall report shows for ``recall_report``. It reads in the
caller's transaction (an API read session or ``db.read_snapshot()``, so every part is from one
snapshot) and writes nothing; the exporter stays a pure function over what it returns. (The FSMA
204 spreadsheet is gathered and rendered by one statement: ``reports.fsma204_export``.)

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
from lotline.recalls import status as recall_status
from lotline.recalls.actions import list_actions
from lotline.recalls.cases import case_dict, find_case, list_targets
from lotline.recalls.common import tuned
from lotline.recalls.communications import list_communications
from lotline.recalls.runs import latest_run, list_runs
from lotline.types import utcnow
from lotline.vocab import ActionStatus, NoticeStatus

# the output columns of recalls/sql/run_lots.sql (runs.run_lots), in order: its rows come back as
# tuples from the pipeline below and are made the dicts run_lots returns
_LOT_COLUMNS = ("lot_id", "lot_code", "sku", "item_name", "uom", "role", "status", "expires_at", "on_hand")
_QUANTITY_COLUMNS = ("uom", "impacted", "quarantined", "scrapped", "returned", "recovered")


def _impacted_customers(
    rows: list[tuple], shipments_per_customer: dict[uuid.UUID, int]
) -> tuple[list[dict], list]:
    """Impacted customers by code, each with what it received per product and lot; and the ids of
    those impacted through a shipment with no listed line (looked up by the caller)."""
    # Impacted customers and what each received, per product and lot, summed in the server
    # (shipment-level detail is in the FSMA export); shipment counts per customer come from the run.
    customers: dict[uuid.UUID, dict] = {}
    # bare tuples, unpacked once per row: ~10^4 product rows for a much-used lot, where a dict per
    # row (psycopg's dict_row) cost about as much as the statement itself
    for (customer_id, code, name, email, sku, item_name, lot_code, uom, quantity, n_shipments, first,
         last) in rows:  # fmt: skip
        c = customers.get(customer_id)
        if c is None:
            c = customers[customer_id] = {
                "customer_code": code,
                "customer_name": name,
                "contact_email": email,
                "shipments": shipments_per_customer.get(customer_id, 0),
                "first_shipped_at": first,
                "last_shipped_at": last,
                "products": [],
            }
        else:
            if first < c["first_shipped_at"]:
                c["first_shipped_at"] = first
            if last > c["last_shipped_at"]:
                c["last_shipped_at"] = last
        c["products"].append(
            {
                "sku": sku,
                "item_name": item_name,
                "lot_code": lot_code,
                "uom": uom,
                "quantity": quantity,
                "shipments": n_shipments,
            }
        )
    for c in customers.values():
        c["products"].sort(key=lambda p: (p["sku"], p["lot_code"] or ""))
    return list(customers.values()), [cid for cid in shipments_per_customer if cid not in customers]


def _without_lines(
    session: Session, missing: list, shipments_per_customer: dict[uuid.UUID, int]
) -> list[dict]:
    """Customers impacted through a shipment with no listed line: still impacted customers."""
    return [
        {
            "customer_code": cust.code,
            "customer_name": cust.name,
            "contact_email": cust.contact_email,
            "shipments": shipments_per_customer[cust.id],
            "first_shipped_at": None,
            "last_shipped_at": None,
            "products": [],
        }
        for cust in session.scalars(sa.select(Customer).where(Customer.id.in_(missing)))
    ]


def _run_parts(
    session: Session, case: RecallCase, run: RecallTraceRun
) -> tuple[list[dict], list[dict], set, list[dict]]:
    """The run's impacted lots, impacted customers, impacted customer ids and status quantities.

    Its three large statements (lots, customers' products, quantities) are sent at once in one
    pipeline: the server runs each while this process turns the previous one's rows into the
    report's dicts, instead of the two taking turns. Same statements, same snapshot, same rows as
    ``runs.run_lots``, the customer table and ``status.effectiveness``."""
    shipments_per_customer: dict[uuid.UUID, int] = {
        customer_id: n
        for customer_id, n in session.execute(
            sa.select(RecallImpactedShipment.customer_id, sa.func.count())
            .where(RecallImpactedShipment.recall_trace_run_id == run.id)
            .group_by(RecallImpactedShipment.customer_id)
        )
    }
    # the run's id sets as three array literals, not 10^4 uuid objects
    _, recalled, shipments = sql.one(
        session, sql.load_sql("lotline.reports", "fsma204_run_sets"), {"run_id": run.id}, kind="tuple"
    )
    products = (
        sql.load_sql("lotline.reports", "impacted_customer_products"),
        {"shipment_ids": shipments, "shipped_lot_ids": recalled, "case_id": run.recall_case_id},
    )
    statements = [
        (sql.load_sql("lotline.recalls", "run_lots"), {"run_id": run.id}),
        products,
        recall_status.quantities_statement(case, run, recalled, shipments),
    ]
    with sql.pipelined_many(session, statements, kind="tuple") as (
        fetch_lots,
        fetch_products,
        fetch_quantities,
    ):
        lots = [dict(zip(_LOT_COLUMNS, r, strict=True)) for r in fetch_lots()]
        customers, missing = _impacted_customers(fetch_products(), shipments_per_customer)
        quantities = [dict(zip(_QUANTITY_COLUMNS, r, strict=True)) for r in fetch_quantities()]
    if missing:
        customers += _without_lines(session, missing, shipments_per_customer)
    customers.sort(key=lambda c: c["customer_code"])
    return lots, customers, set(shipments_per_customer), recall_status.finish_quantities(quantities)


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
    lots: list[dict] = []
    customers: list[dict] = []
    impacted: set = set()
    quantities: list[dict] = []
    if run is not None:
        lots, customers, impacted, quantities = _run_parts(session, case, run)
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
        "effectiveness": recall_status.summary(session, case, run, impacted, quantities),
    }
