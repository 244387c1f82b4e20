"""The recall report (HTML and JSON): case, timeline, targets, impacted lots and customers, actions,
communications and the effectiveness summary (21 CFR 7.53 status report).

Pure functions over the dict gathered by ``reports.recall_data.report_data``; no database access.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import jinja2
import orjson

from lotline.perf import no_gc_pauses
from lotline.serialize import decimal_text

# Tables in the HTML are cut here (the JSON and the FSMA spreadsheet hold every row).
HTML_ROW_LIMIT = 1000


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _orjson_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_text(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@no_gc_pauses()
def to_json(data: dict[str, Any]) -> str:
    """The report as compact JSON (UTF-8 text, one line).

    Encoded by orjson, which writes UUIDs, datetimes, dates and str-enum keys itself in the forms
    ``str`` and ``isoformat`` give, so only decimals go through Python (``decimal_text``): the same
    text as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"), default=_default)``, about
    twice as fast on a much-used lot's report. One difference in form, not value: a float below
    1e-4 (a duration of under 0.1 ms) prints as ``0.00005`` where json printed ``5e-05``. Anything
    orjson refuses (an integer beyond 64 bits, a lone surrogate) is encoded by json, as before.
    """
    try:
        return orjson.dumps(data, default=_orjson_default, option=orjson.OPT_NON_STR_KEYS).decode() + "\n"
    except orjson.JSONEncodeError:
        return _json_dumps(data)


def _json_dumps(data: dict[str, Any]) -> str:
    # default= converts only the leaves json cannot write (no copy of the large structure first);
    # no indent, so the C encoder runs (an indented dump of a big recall takes seconds).
    return json.dumps(data, ensure_ascii=False, default=_default, separators=(",", ":")) + "\n"


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        return utc.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s"


@cache
def templates() -> jinja2.Environment:
    """The reports' template environment (HTML autoescaped, strict), with the fmt/duration filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lotline.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    env.filters["duration"] = _duration
    return env


@no_gc_pauses()
def to_html(data: dict[str, Any], *, row_limit: int = HTML_ROW_LIMIT) -> str:
    return templates().get_template("recall_report.html.j2").render(r=data, limit=row_limit)
