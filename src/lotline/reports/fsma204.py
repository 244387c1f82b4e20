"""FSMA 204 electronic sortable spreadsheet of a trace (21 CFR 1.1455(c)(3)(ii)), as CSV and XLSX.

One row per critical tracking event — receiving, transformation, shipping — with the key data
elements: event type and date, traceability lot code (and the supplier's lot code as its source
reference), product description, quantity and unit of measure, location, immediate previous source
(receiving) or immediate subsequent recipient (shipping), reference document type and number.
A transformation lists each input lot on its own row (same output lot, event and document).

Pure functions over the rows gathered by ``reports.recall_data.fsma_events``; no database access.
The exports themselves (CLI, API, console, mock drill) are rendered by the database
(``reports.fsma204_export``), without a Python object per row or cell; these functions are the
reference that rendering is held equal to, byte for byte (tests/reports/test_fsma204_export.py), and
``COLUMNS`` names the spreadsheet's columns for both.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from lotline.perf import no_gc_pauses
from lotline.reports import csv_safe, xlsx
from lotline.serialize import decimal_text

COLUMNS: list[tuple[str, str]] = [
    ("event_type", "Event type"),
    ("event_date", "Event date"),
    ("event_time_utc", "Event time (UTC)"),
    ("traceability_lot_code", "Traceability lot code"),
    ("tlc_source_reference", "TLC source reference (supplier lot code)"),
    ("product_description", "Product description"),
    ("sku", "SKU"),
    ("quantity", "Quantity"),
    ("unit_of_measure", "Unit of measure"),
    ("location", "Location"),
    ("previous_source_or_next_recipient", "Immediate previous source / subsequent recipient"),
    ("input_traceability_lot_code", "Input traceability lot code"),
    ("input_product_description", "Input product description"),
    ("input_quantity", "Input quantity"),
    ("input_unit_of_measure", "Input unit of measure"),
    ("reference_document_type", "Reference document type"),
    ("reference_document_number", "Reference document number"),
]
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
