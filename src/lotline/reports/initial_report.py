"""The 21 CFR 7.46 initial recall report: what FDA asks a firm to tell it when a recall starts.

Product identity and lot codes, reason and health-hazard evaluation, amount produced and in
distribution, distribution pattern, number and list of direct accounts (also as XLSX), a copy of
the notice, the strategy and the contact. Data comes from the case's computed trace run in a few
set-based statements; the document is HTML (printable to PDF from a browser) or JSON.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lotline.db import sql
from lotline.models import RecallCase
from lotline.recalls import consignees as consignees_mod
from lotline.recalls import strategy as strategy_mod
from lotline.reports import xlsx
from lotline.types import utcnow

ACCOUNT_COLUMNS = ["name", "customer", "email", "phone", "responded_at", "holds_product", "quantity_on_hand"]


def data(session: Session, case: RecallCase) -> dict[str, Any]:
    """Everything the 7.46 report states (the strategy must be set)."""
    strat = strategy_mod.require(session, case)
    products = sql.rows(session, sql.load_sql("lotline.recalls", "initial_report_products"), {"case_id": case.id}, kind="dict")
    accounts = [k for k in consignees_mod.list_consignees(session, case) if k["depth"] == 1]
    notice = sql.one(session, sql.load_sql("lotline.recalls", "initial_report_notice"), {"case_id": case.id}, kind="dict")
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
        "notice": notice,
        "contact": {"name": strat.coordinator_name, "email": strat.coordinator_email},
    }


def to_html(report: dict[str, Any]) -> str:
    from lotline.reports import recall_report  # noqa: PLC0415 — import cycle: recall_report's data imports recalls

    # the same environment and filters as the recall report
    return recall_report.templates().get_template("initial_report.html.j2").render(r=report)


def accounts_xlsx(report: dict[str, Any]) -> bytes:
    """The list of direct accounts, one row each, as a sortable spreadsheet."""
    rows = ([a.get(c) for c in ACCOUNT_COLUMNS] for a in report["accounts"])
    return xlsx.write(ACCOUNT_COLUMNS, rows, title=f"{report['case']['recall_number']} accounts")
