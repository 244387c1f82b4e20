"""Shared CLI plumbing: output (Rich tables or --json), input parsing, error exit codes.

Exit codes (one table, mirrored in README):
    0 ok · 1 unexpected bug · 2 invalid input/usage · 4 not found · 5 conflict · 6 rule violation ·
    7 unavailable (database unreachable, SMTP down) · 3 unauthenticated · 8 permission denied
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich import markup
from rich.console import Console
from rich.table import Table

from lotline import errors
from lotline.serialize import decimal_text, to_jsonable

console = Console()
err_console = Console(stderr=True)

EXIT_CODES: list[tuple[type[Exception], int]] = [
    (errors.NotFound, 4),
    (errors.InvalidInput, 2),
    (ValidationError, 2),
    (errors.Conflict, 5),
    (errors.RuleViolation, 6),
    (errors.Unavailable, 7),
    (errors.Unauthenticated, 3),
    (errors.PermissionDenied, 8),
    (errors.LotlineError, 1),
]

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of a table.")


def exit_code_for(exc: Exception) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


def format_validation_error(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "input"
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "invalid input: " + "; ".join(parts)


def safe_text(text: str) -> str:
    """A message fit for a terminal: Rich markup escaped, control characters (which may come
    from the user's input: CR, escape sequences) shown as escapes; newlines and tabs kept."""
    shown = "".join(
        ch if ch in "\n\t" or unicodedata.category(ch) != "Cc" else ch.encode("unicode_escape").decode()
        for ch in text
    )
    return markup.escape(shown)


def report_error(exc: Exception) -> int:
    if isinstance(exc, ValidationError):
        err_console.print(f"[red]error:[/] {safe_text(format_validation_error(exc))}", highlight=False)
    else:
        code = getattr(exc, "code", "error")
        err_console.print(f"[red]error ({code}):[/] {safe_text(str(exc))}", highlight=False)
    return exit_code_for(exc)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2) + "\n")


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def emit(rows: Sequence[dict], columns: Iterable[str], *, as_json: bool, title: str | None = None) -> None:
    """A listing: a Rich table for people, JSON (all fields) for scripts."""
    if as_json:
        print_json(list(rows))
        return
    columns = list(columns)
    table = Table(title=title, header_style="bold")
    for col in columns:
        numeric = any(isinstance(r.get(col), (int, float, Decimal)) and not isinstance(r.get(col), bool) for r in rows)
        table.add_column(col, justify="right" if numeric else "left")
    for r in rows:
        table.add_row(*(fmt(r.get(c)) for c in columns))
    console.print(table)
    if not rows:
        console.print("[dim](none)[/]")


MOVEMENT_LINE_COLUMNS = ["line_no", "sku", "location", "line_quantity", "uom", "lot_code", "lot_quantity"]


def emit_movement_lines(detail: dict, *, title: str | None = None) -> None:
    """The lines of a movement (from inventory.queries.movement_detail) as a table."""
    emit(detail["lines"], MOVEMENT_LINE_COLUMNS, as_json=False, title=title)


def read_input(path: str | None) -> dict | None:
    """A JSON payload from a file (or '-' for stdin) for multi-line postings."""
    if path is None:
        return None
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.InvalidInput(f"--input is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise errors.InvalidInput("--input must hold a JSON object")
    return data


def split_spec(spec: str, n_min: int, n_max: int, form: str) -> list[str]:
    """Split 'A:B:C' specs given on the command line; errors name the expected form."""
    parts = spec.split(":")
    if not n_min <= len(parts) <= n_max or any(p == "" for p in parts):
        raise errors.InvalidInput(f"{spec!r} should look like {form}")
    return parts


def lot_specs(specs: list[str] | None) -> list[dict] | None:
    """--lot CODE:QTY options -> [{'lot': CODE, 'quantity': QTY}]"""
    if not specs:
        return None
    out = []
    for spec in specs:
        code, _, qty = spec.rpartition(":")
        if not code or not qty:
            raise errors.InvalidInput(f"--lot {spec!r} should look like LOTCODE:QUANTITY")
        out.append({"lot": code, "quantity": qty})
    return out


def run(fn: Callable[[], Any]) -> Any:
    """Run a command body; domain errors become a message on stderr and an exit code."""
    try:
        return fn()
    except (errors.LotlineError, ValidationError) as exc:
        raise typer.Exit(report_error(exc)) from None
