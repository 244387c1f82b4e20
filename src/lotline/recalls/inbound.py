"""Inbound recalls: a supplier's (or regulator's) recall notice becomes a draft case.

The notice names a vendor and any of: vendor lot codes, items, a receiving date range. The lots we
received from that vendor that match become the case's lot targets, found in one statement. If an
open case (draft or active) already targets every one of those lots, it is pointed out instead of
opening a duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.errors import DuplicateKey, NotFound
from lotline.models import Item, Vendor
from lotline.recalls.completion_schemas import InboundNoticeIn

_MATCH_SQL = sa.text(
    """
    SELECT DISTINCT l.id, l.lot_code, l.vendor_lot_code, i.sku, l.received_at
      FROM inventory_movements m
      JOIN inventory_movement_lines ml ON ml.movement_id = m.id
      JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = ml.id
      JOIN lots l ON l.id = iml.lot_id
      JOIN items i ON i.id = l.item_id
     WHERE m.movement_type = 'receipt' AND m.reverses_movement_id IS NULL
       AND m.vendor_id = CAST(:vendor_id AS uuid)
       AND (cardinality(CAST(:vendor_lots AS text[])) = 0 OR l.vendor_lot_code = ANY(CAST(:vendor_lots AS text[])))
       AND (cardinality(CAST(:item_ids AS uuid[])) = 0 OR l.item_id = ANY(CAST(:item_ids AS uuid[])))
       AND (CAST(:since AS timestamptz) IS NULL OR m.occurred_at >= CAST(:since AS timestamptz))
       AND (CAST(:until AS timestamptz) IS NULL OR m.occurred_at < CAST(:until AS timestamptz))
     ORDER BY i.sku, l.lot_code
    """
)

_OPEN_CASES_SQL = sa.text(
    """
    SELECT c.recall_number, c.status
      FROM recall_cases c
     WHERE c.status IN ('draft', 'active')
       AND NOT EXISTS (SELECT 1 FROM unnest(CAST(:lot_ids AS uuid[])) AS x(lot_id)
                        WHERE NOT EXISTS (SELECT 1 FROM recall_case_targets t
                                           WHERE t.recall_case_id = c.id AND t.lot_id = x.lot_id))
     ORDER BY c.created_at
    """
)


def _day_start(d) -> datetime | None:
    return None if d is None else datetime.combine(d, time.min, tzinfo=UTC)


def match(session: Session, data: InboundNoticeIn) -> list[dict[str, Any]]:
    """The lots received from the notice's vendor that it concerns."""
    vendor = catalog.resolve(session, Vendor, data.vendor, context="inbound recall notice")
    item_ids = [catalog.resolve(session, Item, ref, context="inbound recall notice").id for ref in data.items]
    rows = session.execute(
        _MATCH_SQL,
        {
            "vendor_id": str(vendor.id),
            "vendor_lots": list(data.vendor_lot_codes),
            "item_ids": [str(i) for i in item_ids],
            "since": _day_start(data.received_from),
            "until": _day_start(data.received_to + timedelta(days=1)) if data.received_to else None,
        },
    ).mappings()
    return [dict(r) for r in rows]


def open_case(session: Session, data: InboundNoticeIn) -> dict[str, Any]:
    """Open a draft case targeting the matched lots. Raises NotFound when nothing matches and
    DuplicateKey naming the open case that already targets them all."""
    from lotline.recalls import service  # noqa: PLC0415 — the façade imports this module's siblings
    from lotline.recalls.schemas import CaseIn, TargetIn  # noqa: PLC0415

    lots = match(session, data)
    if not lots:
        raise NotFound(
            f"no lot received from vendor {data.vendor!r} matches the notice (vendor lot codes, items, dates); "
            "check the codes against `lotline lot list`",
            kind="lot",
        )
    existing = session.execute(_OPEN_CASES_SQL, {"lot_ids": [str(r["id"]) for r in lots]}).first()
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
