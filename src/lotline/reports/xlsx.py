"""A minimal streaming XLSX writer: one sheet, header row frozen and filtered, typed cells.

Streaming: rows are rendered and compressed in chunks as they come (``write_to``), so the sheet's
XML is never held whole; only the compressed workbook is.

Why not openpyxl for writing: a recall of a much-used raw lot yields ~10^5 critical tracking events,
and openpyxl (even write-only) spends tens of microseconds per cell building cell objects — seconds
per export, most of the mock drill's budget. This writes the SpreadsheetML parts directly (inline
strings, no shared-string table) into a zip, an order of magnitude faster. The output is the plain
Office Open XML subset every spreadsheet reads; tests read it back with openpyxl.

Cell types: str -> inline string, int/float/Decimal -> number, date/datetime -> serial number with a
date format (naive or UTC; tz-aware values are converted to UTC), bool -> boolean, None -> empty.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # of every XLSX download
_EPOCH = datetime(1899, 12, 30)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_SHEET_TITLE = 31

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""

_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""

# Styles: 0 default, 1 date (built-in format 14 + time), 2 bold header.
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


def column_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _text(value: str) -> str:
    # Most values need nothing: one regex search instead of two rewriting passes.
    return escape(_ILLEGAL.sub("", value)) if _SPECIAL.search(value) else value


def _serial(value: date) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        delta = value - _EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return float((value - _EPOCH.date()).days)


def _str(value: str) -> str:
    return f'<c t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'


def _bool(value: bool) -> str:
    return f'<c t="b"><v>{int(value)}</v></c>'


def _decimal(value: Decimal) -> str:
    return f"<c><v>{value.normalize():f}</v></c>" if value.is_finite() else _str(str(value))


def _number(value: float) -> str:
    return f"<c><v>{value!r}</v></c>"


def _datetime(value: datetime) -> str:
    return f'<c s="1"><v>{_serial(value)!r}</v></c>'


def _date(value: date) -> str:
    return f'<c s="1"><v>{int(_serial(value))}</v></c>'


# Cells carry no "r" reference (optional in SpreadsheetML): their position is their order in the row,
# so an empty cell is written as <c/>. Dispatch on the exact type: a dict lookup per cell.
_WRITERS: dict[type, Callable[[Any], str]] = {
    str: _str,
    bool: _bool,
    int: _number,
    float: _number,
    Decimal: _decimal,
    datetime: _datetime,
    date: _date,
    type(None): lambda _v: "<c/>",
}


def _cell(value: Any) -> str:
    writer = _WRITERS.get(type(value))
    if writer is not None:
        return writer(value)
    for kind in (bool, int, float, Decimal, datetime, date, str):  # subclasses
        if isinstance(value, kind):
            return _WRITERS[kind](value)
    return _str(str(value))


# Rows are encoded and handed to the zip stream this many at a time: the sheet is never held whole.
_CHUNK_ROWS = 512
# Distinct rendered cells kept for reuse; past this the cache starts over, so memory stays bounded
# whatever the number of distinct values (timestamps, quantities) an export has.
_CACHE_LIMIT = 50_000


def write(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Sheet1",
    widths: Sequence[float] | None = None,
) -> bytes:
    """The .xlsx bytes of one sheet: bold frozen header, auto-filter over all rows."""
    buf = io.BytesIO()
    write_to(buf, header, rows, title=title, widths=widths)
    return buf.getvalue()


def write_to(
    out: BinaryIO,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Sheet1",
    widths: Sequence[float] | None = None,
) -> None:
    """Write the workbook to ``out`` (a seekable binary stream), the sheet streamed row chunk by chunk.

    Memory: the compressed output plus one chunk of rows and the bounded cell cache, never the
    sheet's XML (43k-row FSMA export: +188 MB peak when the sheet was joined, see bench_export_memory).
    """
    width = len(header)
    # Exports repeat most values (event types, products, units, locations, dates): each distinct
    # (type, value) is rendered once. Keyed by type too: True == 1 but renders differently.
    rendered: dict[tuple[type, Any], str] = {}

    def cell(value: Any) -> str:
        key = (type(value), value)
        try:
            xml = rendered.get(key)
        except TypeError:  # unhashable: rendered as its text, not cached
            return _cell(value)
        if xml is None:
            if len(rendered) >= _CACHE_LIMIT:
                rendered.clear()
            xml = rendered[key] = _cell(value)
        return xml

    def chunks() -> Iterator[tuple[int, str]]:
        n = 1
        chunk: list[str] = []
        for row in rows:
            n += 1
            if len(row) != width:
                raise ValueError(f"row {n} has {len(row)} cells, the header {width}")
            chunk.append(f'<row r="{n}">{"".join(map(cell, row))}</row>')
            if len(chunk) >= _CHUNK_ROWS:
                yield len(chunk), "".join(chunk)
                chunk.clear()
        yield len(chunk), "".join(chunk)

    write_rendered_to(out, header, chunks(), title=title, widths=widths)


def write_rendered_to(
    out: BinaryIO,
    header: Sequence[str],
    chunks: Iterable[tuple[int, str]],
    *,
    title: str = "Sheet1",
    widths: Sequence[float] | None = None,
) -> None:
    """Write the workbook to ``out`` from rows already rendered: (row count, their ``<row>`` elements)
    chunks, rows numbered from 2 in order (row 1 is the header). The same bytes as ``write_to`` for
    the same cells: it frames the sheet as ``write_to`` does (reports/sql/fsma204_export.sql renders
    the FSMA 204 rows in the server, cell by cell as ``_cell`` would)."""
    title = (
        _ILLEGAL.sub("", title).translate({ord(c): "_" for c in "[]:*?/\\"})[:_MAX_SHEET_TITLE] or "Sheet1"
    )
    letters = [column_letter(n) for n in range(1, len(header) + 1)]
    head = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews>'
    ]
    if widths:
        head.append("<cols>")
        head.extend(
            f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>' for n, w in enumerate(widths, start=1)
        )
        head.append("</cols>")
    head.append("<sheetData>")
    labels = "".join(
        f'<c r="{col}1" t="inlineStr" s="2"><is><t>{_text(label)}</t></is></c>'
        for col, label in zip(letters, header, strict=True)
    )
    head.append(f'<row r="1">{labels}</row>')
    n = 1
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write("".join(head).encode())
            for count, xml in chunks:
                n += count
                if xml:
                    sheet.write(xml.encode())
            sheet.write(f'</sheetData><autoFilter ref="A1:{letters[-1]}{n}"/></worksheet>'.encode())
        # The workbook names the filtered range, known only now that every row is written.
        quoted = title.replace("'", "''")
        workbook = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{escape(title, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/></sheets>'
            f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
            f"{escape(repr_sheet(quoted))}!$A$1:${letters[-1]}${n}</definedName></definedNames>"
            "</workbook>"
        )
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/styles.xml", _STYLES)


def repr_sheet(quoted_title: str) -> str:
    return f"'{quoted_title}'"
