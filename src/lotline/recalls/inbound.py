"""Inbound recalls: a supplier's (or regulator's) recall notice becomes a draft case.

The notice names a vendor and any of: vendor lot codes, items, a receiving date range. The lots we
received from that vendor that match become the case's lot targets, found in one statement. If an
open case (draft or active) already targets every one of those lots, it is pointed out instead of
opening a duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.db import sql
from lotline.errors import DuplicateKey, NotFound
from lotline.models import Item, Vendor
from lotline.recalls.completion_schemas import InboundNoticeIn
from lotline.recalls.schemas import CaseIn, TargetIn


def _day_start(d) -> datetime | None:
    return None if d is None else datetime.combine(d, time.min, tzinfo=UTC)


def match(session: Session, data: InboundNoticeIn) -> list[dict[str, Any]]:
    """The lots received from the notice's vendor that it concerns."""
    vendor = catalog.resolve(session, Vendor, data.vendor, context="inbound recall notice")
    item_ids = [catalog.resolve(session, Item, ref, context="inbound recall notice").id for ref in data.items]
    return sql.rows(
        session,
        sql.load_sql("lotline.recalls", "inbound_match"),
        {
            "vendor_id": vendor.id,
            "vendor_lots": list(data.vendor_lot_codes),
            "item_ids": item_ids,
            "since": _day_start(data.received_from),
            "until": _day_start(data.received_to + timedelta(days=1)) if data.received_to else None,
        },
        kind="dict",
    )


def open_case(session: Session, data: InboundNoticeIn) -> dict[str, Any]:
    """Open a draft case targeting the matched lots. Raises NotFound when nothing matches and
    DuplicateKey naming the open case that already targets them all."""
    from lotline.recalls import service  # noqa: PLC0415 — the façade imports this module's siblings

    lots = match(session, data)
    if not lots:
        raise NotFound(
            f"no lot received from vendor {data.vendor!r} matches the notice (vendor lot codes, items, dates); "
            "check the codes against `lotline lot list`",
            kind="lot",
        )
    existing = sql.one(session, sql.load_sql("lotline.recalls", "inbound_open_cases"), {"lot_ids": [r["id"] for r in lots]})
    if existing is not None:
        raise DuplicateKey(
            f"open recall {existing.recall_number} ({existing.status}) already targets all {len(lots)} matched lots",
            recall_number=existing.recall_number,
        )
    vendor_lots = sorted({r["vendor_lot_code"] for r in lots if r["vendor_lot_code"]})
    notes = f"inbound recall notice from vendor {data.vendor}" + (
        f"; vendor lot codes {', '.join(vendor_lots)}" if vendor_lots else ""
    )
    case = service.create_case(session, CaseIn(severity=data.severity, summary=data.summary, notes=notes))
    for r in lots:
        service.add_target(session, case.id, TargetIn(lot=str(r["id"])))
    return {"recall_number": case.recall_number, "case_id": case.id, "lots": lots}
