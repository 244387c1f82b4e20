"""The one JSON and decimal policy, shared by the API, every CLI ``--json``, the console and the
exporters.

Decimals (quantities, costs, prices, KPI values) print in one form everywhere: **exact, as a
string, without exponent and without trailing zeros** — ``480``, ``0.5``, ``-3.25`` (never
``480.000000``, ``4.8E+2`` or a float). Why this form and not a fixed 6 places:

- equal numbers print equal whatever their source: a numeric(18,6) column, a sum, or a KPI
  computed at another scale (a fixed scale would either pad those or round them);
- it is what people type and what messages, CSV/XLSX exports and trace documents already print,
  so a value copied from one output is found by ``grep`` in another;
- a string, not a JSON number: a JSON number is a binary float in most readers, and 0.1 must
  stay 0.1. Input accepts the same strings (and integers): see ``lotline.types``.

One exception, by standard: EPCIS 2.0 documents carry ``quantity`` as a JSON number
(``lotline.epcis.document``), and their content hashes depend on that form.

Other values: UUIDs as strings, datetimes and dates as ISO 8601 (``isoformat``), dataclasses,
named tuples and Pydantic models as objects.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import PlainSerializer, WithJsonSchema

# what ``decimal_text`` can print: the response schema of every decimal
DECIMAL_TEXT_PATTERN = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$"


def decimal_text(value: Decimal | int) -> str:
    """The printed form of a decimal: '480.000000' -> '480', '0.500000' -> '0.5', '-0' -> '0'."""
    text = format(Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# A decimal in a response model: printed by ``decimal_text``, documented as such.
DecimalText = Annotated[
    Decimal,
    PlainSerializer(decimal_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_TEXT_PATTERN,
                    "description": "A decimal, exact, without exponent or trailing zeros"}),
]


def to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if hasattr(value, "_fields"):  # a named tuple: an object, not a list
        return {name: to_jsonable(v) for name, v in zip(value._fields, value, strict=True)}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump())
    return value
