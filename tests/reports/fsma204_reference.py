"""The reference FSMA 204 sortable spreadsheet (21 CFR 1.1455(c)(3)(ii)): the Python writers the
database rendering (``lotline.reports.fsma204_export``) is held equal to, byte for byte.

One row per critical tracking event — receiving, transformation, shipping — with the key data
elements: event type and date, traceability lot code (and the supplier's lot code as its source
reference), product description, quantity and unit of measure, location, immediate previous source
(receiving) or immediate subsequent recipient (shipping), reference document type and number.
A transformation lists each input lot on its own row (same output lot, event and document).

Test-only since the exports (CLI, API, console, mock drill) are rendered by the database in one
statement: src has one writer. This module keeps the old one as the tests' reference —
``fsma_events`` / ``trace_fsma_events`` gather the events with the event statements beside it
(``tests/reports/sql``; the shipping lines are ``recalls.runs.shipment_lines``, still in src), and
``rows`` / ``to_csv`` / ``to_xlsx`` build a Python object per row and per cell, as before.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lotline.db import sql
from lotline.perf import no_gc_pauses
from lotline.recalls.cases import find_case
from lotline.recalls.common import tuned
from lotline.recalls.runs import find_run, latest_run, run_sets, shipment_lines
from lotline.reports import csv_safe, xlsx
from lotline.reports.fsma204_export import COLUMNS
from lotline.serialize import decimal_text
from lotline.trace.service import TraceResult
from lotline.vocab import LotRole

_SQL = Path(__file__).parent / "sql"
KEYS = [k for k, _ in COLUMNS]


class Row(NamedTuple):
    """One spreadsheet row: a tuple in column order (what the writers iterate) with named fields.

    The fields are ``KEYS`` in order (a test holds them equal); spelled out so the types are checked.
    """

    event_type: str
    event_date: date
    event_time_utc: str
    traceability_lot_code: str | None
    tlc_source_reference: str | None
    product_description: str
    sku: str
    quantity: Any
    unit_of_measure: str
    location: str
    previous_source_or_next_recipient: str | None
    input_traceability_lot_code: str | None
    input_product_description: str | None
    input_quantity: Any
    input_unit_of_measure: str | None
    reference_document_type: str
    reference_document_number: str | None


_ORDER = {"Receiving": 0, "Transformation": 1, "Shipping": 2}
# Zones already at UTC (psycopg returns Etc/UTC for a UTC session): no conversion per row needed.
_UTC_ZONES = {UTC, ZoneInfo("UTC"), ZoneInfo("Etc/UTC")}


def _loc(code: str | None, name: str | None) -> str:
    if not code:
        return ""
    return code if not name or name == code else f"{code} - {name}"


def _row(
    event: str,
    at: datetime,
    lot_code: str | None,
    source_ref: str | None,
    product: str,
    sku: str,
    quantity: Any,
    uom: str,
    location: str,
    party: str | None,
    doc_type: str,
    doc_number: str | None,
    input_lot: str | None = None,
    input_product: str | None = None,
    input_quantity: Any = None,
    input_uom: str | None = None,
) -> tuple[tuple, Row]:
    """(sort key, row) — one named tuple per row: ~10^5 rows per export of a much-used lot."""
    t = at if at.tzinfo in _UTC_ZONES else at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    key = (t, _ORDER[event], lot_code or "", input_lot or "", party or "")
    return key, Row(
        event, t.date(), f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}", lot_code, source_ref, product, sku,
        quantity, uom, location, party, input_lot, input_product, input_quantity, input_uom, doc_type,
        doc_number,
    )  # fmt: skip


@no_gc_pauses()
def rows(events: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[Row]:
    """Spreadsheet rows from {receiving, transformation, shipping} event rows, sorted by time."""
    out = []
    locations: dict[tuple, str] = {}

    def loc(r: Mapping[str, Any]) -> str:
        k = (r.get("location_code"), r.get("location_name"))
        if k not in locations:
            locations[k] = _loc(*k)
        return locations[k]

    for r in events.get("receiving", ()):
        out.append(
            _row(
                "Receiving", r["event_at"], r["lot_code"], r.get("vendor_lot_code"), r["item_name"], r["sku"],
                r["quantity"], r["uom"], loc(r), r.get("source"), "Receiving record", r.get("reference_number"),
            )
        )  # fmt: skip
    for r in events.get("transformation", ()):
        out.append(
            _row(
                "Transformation", r["event_at"], r["lot_code"], r.get("vendor_lot_code"), r["item_name"],
                r["sku"], r["quantity"], r["uom"], loc(r), None, "Work order", r.get("reference_number"),
                r["input_lot_code"], f"{r['input_item_name']} ({r['input_sku']})", r["input_quantity"],
                r["input_uom"],
            )
        )  # fmt: skip
    for r in events.get("shipping", ()):
        out.append(
            _row(
                "Shipping", r["shipped_at"], r.get("lot_code"), None, r["item_name"], r["sku"], r["quantity"],
                r["uom"], loc(r), f"{r['customer_name']} ({r['customer_code']})", "Sales order",
                r.get("sales_order_number"),
            )
        )  # fmt: skip
    out.sort(key=lambda pair: pair[0])
    return [row for _, row in out]


def _text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return csv_safe.cell(value)
    if value is None:
        return ""
    if kind is Decimal:
        return decimal_text(value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@no_gc_pauses()
def to_csv(table: Sequence[Row]) -> str:
    """CSV (RFC 4180, header row of human column names); text cells never start a formula (csv_safe)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([label for _, label in COLUMNS])
    texts: dict[tuple[type, Any], str] = {}  # most values repeat: format each distinct one once

    def text(value: Any) -> str:
        key = (type(value), value)
        out = texts.get(key)
        if out is None:
            out = texts[key] = _text(value)
        return out

    writer.writerows(list(map(text, r)) for r in table)
    return buf.getvalue()


@no_gc_pauses()
def to_xlsx(table: Sequence[Row], *, title: str = "FSMA 204 trace") -> bytes:
    """XLSX workbook: header frozen and bold, auto-filter on, dates as dates, quantities as numbers."""
    widths = [max(12, min(40, len(label) + 2)) for _, label in COLUMNS]
    return xlsx.write(
        [label for _, label in COLUMNS],
        table,
        title=title,
        widths=widths,
    )


def _events(session: Session, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return sql.rows(session, (_SQL / f"{name}.sql").read_text(encoding="utf-8"), params, kind="dict")


@no_gc_pauses()
@tuned
def fsma_events(session: Session, ref: str | uuid.UUID, run_id=None) -> dict[str, list[dict]]:
    """Rows of the FSMA 204 sortable spreadsheet (receiving, transformation, shipping) of a run."""
    case = find_case(session, ref)
    run = find_run(session, run_id, case) if run_id else latest_run(session, case)
    sets = run_sets(session, run)
    params = {"lot_ids": sets.lots, "as_of": run.as_of}
    return {
        "receiving": _events(session, "fsma_receiving", params),
        "transformation": _events(session, "fsma_transformation", params),
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
        "receiving": _events(session, "fsma_receiving", params),
        "transformation": _events(session, "fsma_transformation", params),
        "shipping": sql.rows(
            session,
            sql.load_sql("lotline.recalls", "impacted_shipment_lines"),
            {"shipment_ids": shipments, "lot_ids": shipped_lots},
            kind="dict",
        ),
    }
