"""The 21 CFR 7.46 initial recall report: what FDA asks a firm to tell it when a recall starts.

Product identity and lot codes, reason and health-hazard evaluation, amount produced and in
distribution, distribution pattern, number and list of direct accounts (also as XLSX), a copy of
the notice, the strategy and the contact. Data comes from the case's computed trace run in a few
set-based statements; the document is HTML (printable to PDF from a browser) or JSON.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.models import RecallCase
from lotline.recalls import consignees as consignees_mod
from lotline.recalls import strategy as strategy_mod
from lotline.reports import xlsx
from lotline.types import utcnow

_PRODUCTS_SQL = sa.text(
    """
    WITH run AS (SELECT id FROM recall_trace_runs WHERE recall_case_id = CAST(:case_id AS uuid) AND status = 'computed'),
    lots_in AS (
        SELECT il.lot_id, min(il.role) AS role FROM recall_impacted_lots il JOIN run ON run.id = il.recall_trace_run_id
         WHERE il.role IN ('target', 'downstream_finished') GROUP BY il.lot_id
    ),
    made AS (
        SELECT iml.lot_id, sum(iml.quantity_delta) AS produced
          FROM inventory_movement_lots iml
          JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
         WHERE iml.lot_id IN (SELECT lot_id FROM lots_in)
           AND ml.movement_type IN ('receipt', 'production_produce') AND iml.quantity_delta > 0
         GROUP BY iml.lot_id
    ),
    shipped AS (
        SELECT iml.lot_id, sum(-iml.quantity_delta) AS distributed, count(DISTINCT ris.customer_id) AS accounts,
               min(s.shipped_at) AS first_shipped_at, max(s.shipped_at) AS last_shipped_at
          FROM recall_impacted_shipments ris JOIN run ON run.id = ris.recall_trace_run_id
          JOIN sales_order_shipments s ON s.id = ris.sales_order_shipment_id
          JOIN shipment_lot_links sll ON sll.sales_order_shipment_id = s.id
          JOIN inventory_movement_lots iml ON iml.id = sll.inventory_movement_lot_id
         WHERE iml.lot_id IN (SELECT lot_id FROM lots_in)
         GROUP BY iml.lot_id
    )
    SELECT i.sku, i.name AS product, i.uom, l.lot_code, l.vendor_lot_code, l.expires_at, lots_in.role,
           coalesce(made.produced, 0) AS produced, coalesce(shipped.distributed, 0) AS distributed,
           coalesce(shipped.accounts, 0) AS accounts, shipped.first_shipped_at, shipped.last_shipped_at
      FROM lots_in JOIN lots l ON l.id = lots_in.lot_id JOIN items i ON i.id = l.item_id
      LEFT JOIN made ON made.lot_id = l.id LEFT JOIN shipped ON shipped.lot_id = l.id
     ORDER BY lots_in.role DESC, i.sku, l.lot_code
    """
)

_NOTICE_SQL = sa.text(
    """
    SELECT subject, body FROM recall_communications
     WHERE recall_case_id = CAST(:case_id AS uuid) AND channel = 'email'
     ORDER BY created_at, id LIMIT 1
    """
)

ACCOUNT_COLUMNS = ["name", "customer", "email", "phone", "responded_at", "holds_product", "quantity_on_hand"]


def data(session: Session, case: RecallCase) -> dict[str, Any]:
    """Everything the 7.46 report states (the strategy must be set)."""
    strat = strategy_mod.require(session, case)
    products = [dict(r) for r in session.execute(_PRODUCTS_SQL, {"case_id": str(case.id)}).mappings()]
    accounts = [k for k in consignees_mod.list_consignees(session, case) if k["depth"] == 1]
    notice = session.execute(_NOTICE_SQL, {"case_id": str(case.id)}).mappings().first()
    totals: dict[str, dict[str, Any]] = {}
    for p in products:
        t = totals.setdefault(p["uom"], {"uom": p["uom"], "produced": 0, "distributed": 0})
        t["produced"] += p["produced"]
        t["distributed"] += p["distributed"]
    shipped = [p for p in products if p["first_shipped_at"] is not None]
    return {
        "generated_at": utcnow(),
        "case": {"recall_number": case.recall_number, "status": case.status, "severity": case.severity,
                 "initiated_at": case.initiated_at, "summary": case.summary},
        "strategy": strategy_mod.as_dict(strat),
        "products": products,
        "lot_codes": sorted({p["lot_code"] for p in products}),
        "totals": list(totals.values()),
        "distribution": {
            "direct_accounts": len(accounts),
            "first_shipped_at": min((p["first_shipped_at"] for p in shipped), default=None),
            "last_shipped_at": max((p["last_shipped_at"] for p in shipped), default=None),
        },
        "accounts": accounts,
        "notice": dict(notice) if notice else None,
        "contact": {"name": strat.coordinator_name, "email": strat.coordinator_email},
    }


@cache
def _env() -> jinja2.Environment:
    from lotline.reports import recall_report  # noqa: PLC0415 — reuse its number/date filters

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lotline.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = recall_report._fmt
    return env


def to_html(report: dict[str, Any]) -> str:
    return _env().get_template("initial_report.html.j2").render(r=report)


def accounts_xlsx(report: dict[str, Any]) -> bytes:
    """The list of direct accounts, one row each, as a sortable spreadsheet."""
    rows = ([a.get(c) for c in ACCOUNT_COLUMNS] for a in report["accounts"])
    return xlsx.write(ACCOUNT_COLUMNS, rows, title=f"{report['case']['recall_number']} accounts")
