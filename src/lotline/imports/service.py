"""Spreadsheet import (CSV or XLSX): master data and postings, all or nothing, every error at once.

``import_files(paths_by_kind, dry_run)`` runs in three phases:

1. read every file (CSV as UTF-8, XLSX first sheet), check headers and convert every cell; problems are
   collected as (file, row, column, message) — row numbers as a spreadsheet shows them (header = 1);
2. if there is none, post everything in ONE transaction, in the order given, through the ordinary services
   and lot rules, each posting in a savepoint so that every refusal is collected too (file, rows, message);
3. any problem, or ``dry_run``: roll everything back — nothing is written — and report. Otherwise commit.

Master data rows go through the catalog service (GTIN/GLN columns through ``epcis.masterdata``);
receipts, transfers, production batches and shipments through inventory / production / sales, so a
spreadsheet cannot break a rule the API enforces. Shipments: an order that does not exist is created for
the rows' items (quantities shipped, due ``due_date`` or the shipping day).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from lotline import db
from lotline.catalog import service as catalog
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.db import errors as db_errors
from lotline.epcis import masterdata
from lotline.errors import InvalidInput, LotlineError, NotFound
from lotline.imports.columns import KINDS, Column, normal
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn, TransferIn
from lotline.models import Customer, Item, Location, SalesOrder, Vendor, WorkOrder
from lotline.production import service as production
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.sales import service as sales
from lotline.sales.schemas import SalesOrderIn, ShipmentIn

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    file: str
    row: str  # "7" or "7-9" (a posting's rows)
    column: str | None
    message: str

    def __str__(self) -> str:
        col = f", column {self.column}" if self.column else ""
        return f"{self.file}: row {self.row}{col}: {self.message}"


@dataclass
class Sheet:
    file: str
    kind: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Report:
    dry_run: bool
    written: bool
    rows: int
    postings: int
    problems: list[Problem]


# --- reading --------------------------------------------------------------------------------------


def _raw_rows(path: Path) -> list[list[Any]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook  # noqa: PLC0415 — heavy (~0.5 s), only .xlsx files need it

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    if path.suffix.lower() in (".csv", ".txt"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            return [row for row in csv.reader(f)]
    raise InvalidInput(f"{path}: only .csv and .xlsx files are imported")


def _text(value: Any) -> str:
    return str(value).strip() if not isinstance(value, float) or not value.is_integer() else str(int(value))


def _decimal(value: Any) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return d


def _int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def _bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y"):
        return True
    if text in ("false", "no", "0", "n"):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        t = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date-time like 2026-01-05T08:00:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date like 2026-01-05") from None


# Column type -> converter of a non-empty cell (ValueError with the message the problem shows).
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _text, "decimal": _decimal, "int": _int, "bool": _bool, "time": _time, "date": _date,
}


def _convert(value: Any, col: Column) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if col.required:
            raise ValueError("is required")
        return None
    return _CONVERTERS[col.type](value)


def read_sheet(path: Path, kind: str, problems: list[Problem]) -> Sheet:  # noqa: C901 — one pass over a CSV or XLSX file collecting every problem
    """Rows of one file with every cell converted; problems appended, never raised."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown import kind {kind!r}; one of {', '.join(KINDS)}")
    name = str(path)
    sheet = Sheet(name, kind)
    if not path.is_file():
        problems.append(Problem(name, "-", None, "no such file"))
        return sheet
    try:
        raw = _raw_rows(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(Problem(name, "-", None, f"cannot be read: {exc}"))
        return sheet
    except InvalidInput as exc:
        problems.append(Problem(name, "-", None, exc.message))
        return sheet
    if not raw:
        problems.append(Problem(name, "1", None, "the file is empty; the first row must hold the headers"))
        return sheet
    columns = {c.name: c for c in KINDS[kind]}
    headers = [normal(h) for h in raw[0]]
    for i, h in enumerate(headers):
        if h and h not in columns:
            problems.append(Problem(name, "1", h, f"unknown column for {kind} (known: {', '.join(columns)})"))
        if h and headers.index(h) != i:
            problems.append(Problem(name, "1", h, "column given twice"))
    for c in columns.values():
        if c.required and c.name not in headers:
            problems.append(Problem(name, "1", c.name, "required column is missing"))
    for n, values in enumerate(raw[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        row: dict[str, Any] = {}
        for i, h in enumerate(headers):
            if h not in columns:
                continue
            try:
                row[h] = _convert(values[i] if i < len(values) else None, columns[h])
            except ValueError as exc:
                problems.append(Problem(name, str(n), h, str(exc)))
        sheet.rows.append((n, row))
    return sheet


# --- posting --------------------------------------------------------------------------------------


def _groups(sheet: Sheet, key: str | None) -> list[tuple[str, list[tuple[int, dict]]]]:
    if key is None:
        return [(str(n), [(n, r)]) for n, r in sheet.rows]
    out: dict[str, list] = {}
    for n, r in sheet.rows:
        out.setdefault(str(r.get(key)), []).append((n, r))
    return [(f"{g[0][0]}" if len(g) == 1 else f"{g[0][0]}-{g[-1][0]}", g) for g in out.values()]


def _post_master(s, kind: str, row: dict) -> None:
    if kind == "items":
        item = catalog.create_item(s, ItemIn(**{k: row[k] for k in ("sku", "name", "uom", "lot_tracked", "shelf_life_days",
                                                                      "standard_cost") if row.get(k) is not None}))
        if row.get("gtin"):
            masterdata.add_identifier(s, "item", item.id, "gtin", row["gtin"], company_prefix_length=row.get("company_prefix_length"))
    elif kind == "locations":
        loc = catalog.create_location(s, LocationIn(**{k: row[k] for k in ("code", "name", "kind") if row.get(k) is not None}))
        if row.get("gln"):
            masterdata.add_identifier(s, "location", loc.id, "gln", row["gln"], extension=row.get("extension") or "",
                                      company_prefix_length=row.get("company_prefix_length"))
    else:
        data = PartyIn(**{k: row[k] for k in ("code", "name", "contact_email", "contact_phone", "address") if row.get(k) is not None})
        rec = (catalog.create_vendor if kind == "vendors" else catalog.create_customer)(s, data)
        if row.get("gln"):
            masterdata.add_identifier(s, kind[:-1], rec.id, "gln", row["gln"], company_prefix_length=row.get("company_prefix_length"))


def _post_receipt(s, ref: str | None, rows: list[dict]) -> None:
    first = rows[0]
    lines = []
    for r in rows:
        item = catalog.resolve(s, Item, r["item"], context="receipt")
        lots = []
        if item.lot_tracked or r.get("lot_code"):
            lots = [{"lot_code": r.get("lot_code") or "", "quantity": r["quantity"], "vendor_lot_code": r.get("vendor_lot_code"),
                     "manufactured_at": r.get("manufactured_at"), "expires_at": r.get("expires_at")}]
        lines.append({"item": r["item"], "location": r["location"], "quantity": r["quantity"], "unit_cost": r.get("unit_cost"),
                      "lots": lots})
    inventory.receive(s, ReceiptIn(vendor=first["vendor"], occurred_at=first["occurred_at"], external_ref=ref, lines=lines))


def _post_transfer(s, ref: str | None, rows: list[dict]) -> None:
    r = rows[0]  # a transfer is one row
    inventory.transfer(s, TransferIn(item=r["item"], from_location=r["from_location"], to_location=r["to_location"],
                                     quantity=r["quantity"], occurred_at=r["occurred_at"], external_ref=r.get("transfer_ref"),
                                     lots=[{"lot": r["lot_code"], "quantity": r["quantity"]}] if r.get("lot_code") else None))


def _post_production(s, ref: str | None, rows: list[dict]) -> None:
    first = rows[0]
    consume = [{"item": r["item"], "location": r["location"], "quantity": r["quantity"],
                "lots": [{"lot": r["lot_code"], "quantity": r["quantity"]}] if r.get("lot_code") else None}
               for r in rows if r["role"] == "consume"]
    produce = [{"item": r["item"], "location": r["location"], "quantity": r["quantity"], "lot_code": r.get("lot_code") or "-",
                "expires_at": r.get("expires_at")} for r in rows if r["role"] == "produce"]
    roles = {r["role"] for r in rows} - {"consume", "produce"}
    if roles:
        raise InvalidInput(f"role must be consume or produce, got {', '.join(sorted(map(str, roles)))}")
    if not produce:
        raise InvalidInput(f"batch {ref} produces nothing; add a produce row")
    number = first["work_order"]
    wo = s.scalar(sa.select(WorkOrder).where(WorkOrder.number == number))
    if wo is None:
        wo = production.create_work_order(s, WorkOrderIn(number=number, item=produce[0]["item"],
                                                          planned_quantity=sum(p["quantity"] for p in produce)))
    production.execute(s, wo.id, ExecutionIn(occurred_at=first["occurred_at"], external_ref=ref, consume=consume, produce=produce))


def _post_shipment(s, ref: str | None, rows: list[dict]) -> None:
    first = rows[0]
    order = s.scalar(sa.select(SalesOrder).where(SalesOrder.number == first["order"]))
    if order is None:
        totals: dict[str, Decimal] = {}
        for r in rows:
            totals[r["item"]] = totals.get(r["item"], Decimal(0)) + r["quantity"]
        order = sales.create_order(s, SalesOrderIn(
            number=first["order"], customer=first["customer"], ordered_at=first["shipped_at"],
            lines=[{"item": k, "quantity": v, "due_date": first.get("due_date") or first["shipped_at"].date()} for k, v in totals.items()]))
    lines_by_item: dict[Any, list] = {}
    for x in sales.order_lines(s, order):
        lines_by_item.setdefault(x["line"].item_id, []).append(x)
    ship = []
    for r in rows:
        item = catalog.resolve(s, Item, r["item"], context="shipment")
        candidates = lines_by_item.get(item.id)
        if not candidates:
            raise InvalidInput(f"sales order {order.number} has no line for item {item.sku}")
        line = next((x for x in candidates if x["open"] > 0), candidates[0])
        ship.append({"line_no": line["line"].line_no, "location": r["location"], "quantity": r["quantity"],
                     "lots": [{"lot": r["lot_code"], "quantity": r["quantity"]}] if r.get("lot_code") else None})
    sales.ship(s, order.id, ShipmentIn(shipped_at=first["shipped_at"], external_ref=ref, lines=ship))


# One poster per transaction kind (the master-data kinds go through _post_master).
_POSTERS = {"receipts": _post_receipt, "transfers": _post_transfer, "production": _post_production,
            "shipments": _post_shipment}


def _post_group(s, kind: str, ref: str | None, rows: list[dict]) -> None:
    _POSTERS[kind](s, ref, rows)


GROUP_KEY = {"receipts": "receipt_ref", "production": "batch_ref", "shipments": "shipment_ref"}


def _message(exc: Exception) -> tuple[str | None, str]:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e["loc"])
        return loc.split(".")[-1] or None, f"{loc}: {e['msg'].removeprefix('Value error, ')}"
    return None, getattr(exc, "message", str(exc))


def import_files(files: list[tuple[str, Path]], *, dry_run: bool = False, progress: Progress | None = None) -> Report:
    """Import (kind, path) files in order, all in one transaction (see module doc)."""
    problems: list[Problem] = []
    sheets = [read_sheet(path, kind, problems) for kind, path in files]
    total = sum(len(s.rows) for s in sheets)
    postings = 0
    if problems:
        return Report(dry_run, False, total, 0, problems)

    class _Rollback(Exception):
        pass

    done = 0
    try:
        with db.transaction() as s:
            catalog.remember_records(s)  # one transaction for every file: each reference resolved once
            for sheet in sheets:
                master = sheet.kind in ("items", "locations", "vendors", "customers")
                for rows_label, group in _groups(sheet, None if master else GROUP_KEY.get(sheet.kind)):
                    sp = s.begin_nested()
                    try:
                        if master:
                            _post_master(s, sheet.kind, group[0][1])
                        else:
                            _post_group(s, sheet.kind, str(group[0][1].get(GROUP_KEY.get(sheet.kind, "")) or "") or None,
                                        [r for _n, r in group])
                        s.flush()
                        sp.commit()
                        postings += 1
                    except (LotlineError, ValidationError) as exc:
                        sp.rollback()
                        col, msg = _message(exc)
                        problems.append(Problem(sheet.file, rows_label, col, msg))
                    except sa.exc.DBAPIError as exc:
                        translated = db_errors.translate(exc)
                        if translated is None:
                            raise
                        sp.rollback()
                        problems.append(Problem(sheet.file, rows_label, None, translated.message))
                    done += len(group)
                    if progress:
                        progress(done, total)
            if problems or dry_run:
                raise _Rollback()
    except _Rollback:
        return Report(dry_run, False, total, postings, problems)
    return Report(dry_run, True, total, postings, problems)


def template(kind: str, path: Path | None) -> str | None:
    """An empty sheet with the kind's headers (and a README sheet for XLSX); CSV text when no path."""
    if kind not in KINDS:
        raise NotFound(f"unknown import kind {kind!r}; one of {', '.join(KINDS)}", kind="import_kind", ref=kind)
    cols = KINDS[kind]
    if path is None or path.suffix.lower() == ".csv":
        buf = io.StringIO()
        csv.writer(buf).writerow([c.name for c in cols])
        if path is None:
            return buf.getvalue()
        path.write_text(buf.getvalue(), encoding="utf-8")
        return None
    from openpyxl import Workbook  # noqa: PLC0415 — heavy (~0.5 s), only .xlsx templates need it

    wb = Workbook()
    ws = wb.worksheets[0]  # a new workbook has one sheet (wb.active may be None in general)
    ws.title = kind
    ws.append([c.name for c in cols])
    doc = wb.create_sheet("README")
    doc.append(["column", "type", "required", "meaning"])
    for c in cols:
        doc.append([c.name, c.type, "yes" if c.required else "", c.help])
    wb.save(path)
    return None


__all__ = ["import_files", "template", "Problem", "Report", "KINDS", "Customer", "Location", "Vendor"]
