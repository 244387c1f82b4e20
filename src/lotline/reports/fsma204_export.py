"""The FSMA 204 sortable spreadsheet (CSV and XLSX) rendered by the database, framed here.

The old Python writers built a Python object per row and per cell: ~10^5 rows for a much-used lot,
most of the mock recall drill's time. Here one statement
(``reports/sql/fsma204_export.sql``) gathers the same critical tracking events and renders every
row in the server — the CSV line (csv_safe rule, RFC 4180 quoting, CRLF) and the XLSX ``<row>``
element (escaped inline strings, serial dates, numbers): two strings per row, no object per cell;
this module writes the header and joins the lines, and ``xlsx.write_rendered_to`` frames the sheet. The bytes are
those of the old writers, kept as the tests' reference (tests/reports/fsma204_reference.py;
tests/reports/test_fsma204_export.py compares them on a generated world).

Why not ``COPY … TO STDOUT``: COPY's CSV ends lines with LF and quotes empty strings, and its text
format escapes CR and backslashes, while the export is RFC 4180 (CRLF) as it always was; a
pre-rendered line costs one Python string, about what a COPY buffer per row would.

Reads in the caller's transaction (a read snapshot); writes nothing.
Raises: NotFound (case or run), InvalidInput (no computed trace run).
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from lotline.db import sql
from lotline.recalls.cases import find_case
from lotline.recalls.common import tuned
from lotline.recalls.runs import find_run, latest_run
from lotline.reports import xlsx
from lotline.types import utcnow

# The FSMA 204 key data elements, in column order: (key, the header's label).
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


def _header_line() -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([label for _, label in COLUMNS])
    return buf.getvalue()


CSV_HEADER = _header_line()
LABELS = [label for _, label in COLUMNS]
WIDTHS = [max(12, min(40, len(label) + 2)) for label in LABELS]
_CHUNK = 1024  # rows per piece handed to the zip stream


@dataclass(frozen=True)
class Sources:
    """What the spreadsheet lists: the receiving and transformation events of ``lot_ids`` up to
    ``as_of``, and what ``shipments`` carried of ``shipped_lots`` (plus, for a case, its untracked
    item targets' lines). Id sets are uuid lists or PostgreSQL array literals (``'{…}'``)."""

    lot_ids: list[uuid.UUID] | str
    as_of: datetime
    shipment_ids: list[uuid.UUID] | str
    shipped_lot_ids: list[uuid.UUID] | str
    untracked_case_id: uuid.UUID | None = None


@dataclass
class Export:
    """The rendered spreadsheet: its number of rows and whichever files were asked for."""

    rows: int
    csv: bytes | None = None
    xlsx: bytes | None = None


def run_sources(session: Session, ref: str | uuid.UUID, run_id: str | uuid.UUID | None = None) -> Sources:
    """The sources of a case's trace run (its computed run by default): the run's id sets, read as
    array literals (three strings, not 10^4 uuid objects)."""
    case = find_case(session, ref)
    run = find_run(session, run_id, case) if run_id else latest_run(session, case)
    lots, recalled, shipments = sql.one(
        session, sql.load_sql("lotline.reports", "fsma204_run_sets"), {"run_id": run.id}, kind="tuple"
    )
    return Sources(lots, run.as_of, shipments, recalled, untracked_case_id=case.id)


def trace_sources(result: Any) -> Sources:
    """The sources of a trace taken on the spot (a ``trace.service.TraceResult``): its lots' events,
    and what its shipments carried of its target and downstream lots."""
    from lotline.vocab import LotRole  # noqa: PLC0415 — a vocabulary import kept beside its only use

    return Sources(
        lot_ids=sorted({x.lot_id for x in result.lots}, key=str),
        as_of=result.as_of or utcnow(),
        shipment_ids=sorted({s.sales_order_shipment_id for s in result.shipments}, key=str),
        shipped_lot_ids=sorted({x.lot_id for x in result.lots if x.role != LotRole.UPSTREAM_COMPONENT}, key=str),
    )


@tuned
def _rendered(session: Session, sources: Sources, *, want_csv: bool, want_xlsx: bool) -> list[tuple]:
    params = {
        "lot_ids": sources.lot_ids,
        "as_of": sources.as_of,
        "shipment_ids": sources.shipment_ids,
        "shipped_lot_ids": sources.shipped_lot_ids,
        "untracked_case_id": sources.untracked_case_id,
        "csv": want_csv,
        "xlsx": want_xlsx,
    }
    return sql.rows(session, sql.load_sql("lotline.reports", "fsma204_export"), params, kind="tuple")


def write_csv(out: BinaryIO, rendered: list[tuple]) -> None:
    """The CSV (UTF-8) to ``out``: the header line, then the server's lines."""
    out.write(CSV_HEADER.encode())
    out.write("".join([line for line, _ in rendered]).encode())


def write_xlsx(out: BinaryIO, rendered: list[tuple], *, title: str) -> None:
    """The XLSX workbook to ``out`` (seekable), framed around the server's ``<row>`` elements."""
    chunks = (
        (len(part), "".join([xml for _, xml in part]))
        for part in (rendered[i : i + _CHUNK] for i in range(0, len(rendered), _CHUNK))
    )
    xlsx.write_rendered_to(out, LABELS, chunks, title=title, widths=WIDTHS)


def export(
    session: Session, sources: Sources, *, csv: bool = True, xlsx: bool = True, title: str = "FSMA 204 trace"
) -> Export:
    """The spreadsheet of ``sources`` as CSV and/or XLSX bytes, rendered in one statement."""
    rendered = _rendered(session, sources, want_csv=csv, want_xlsx=xlsx)
    result = Export(rows=len(rendered))
    if csv:
        buf = io.BytesIO()
        write_csv(buf, rendered)
        result.csv = buf.getvalue()
    if xlsx:
        buf = io.BytesIO()
        write_xlsx(buf, rendered, title=title)
        result.xlsx = buf.getvalue()
    return result
