"""CBV vocabulary and value helpers shared by the EPCIS mapping: bare CBV words, times, ILMD dates,
business transaction identifiers, and which dispositions set which lotline lot status."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from lotline.epcis import identifiers as ids
from lotline.errors import InvalidInput

STATUS_OF_DISPOSITION = {
    "recalled": "blocked",
    "damaged": "blocked",
    "expired": "expired",
    "non_sellable_other": "quarantine",
    "sellable_not_accessible": "quarantine",
}
RELEASING = {"active", "sellable_accessible", "available"}
CBV_PREFIXES = ("https://ref.gs1.org/cbv/BizStep-", "https://ref.gs1.org/cbv/Disp-", "https://ref.gs1.org/cbv/BTT-",
                "https://ref.gs1.org/cbv/SDT-", "https://ref.gs1.org/cbv/ER-")


def cbv(value: Any) -> Any:
    """A CBV term as its bare word (``https://ref.gs1.org/cbv/BizStep-shipping`` -> ``shipping``)."""
    if isinstance(value, str):
        for prefix in CBV_PREFIXES:
            if value.startswith(prefix):
                return value[len(prefix):]
    return value


def parse_time(value: str) -> datetime:
    t = datetime.fromisoformat(value.replace("z", "Z"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _ilmd_value(ilmd: dict, *names: str) -> Any:
    for name in names:
        for key, value in ilmd.items():
            if key == name or key.rsplit(":", 1)[-1].rsplit("#", 1)[-1] == name.rsplit(":", 1)[-1]:
                return value
    return None


def _date_or_time(value: Any, what: str) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        return parse_time(text)
    except ValueError:
        raise InvalidInput(f"ILMD {what} {text!r} is not a date (YYYY-MM-DD) or date-time") from None


def _last_segment(uri: str) -> str:
    if uri.startswith("urn:lotline:so:") or uri.startswith("urn:lotline:wo:"):
        return ids.unquote(uri[len("urn:lotline:so:"):])
    return re.split(r"[:/]", uri.rstrip("/"))[-1] or uri
