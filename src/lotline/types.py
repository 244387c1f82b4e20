"""Validated input types shared by every domain's schemas.

They make bad input fail at the edge with a message naming the field: NaN/Infinity, quantities
beyond numeric(18,6), zero where zero means nothing, empty or over-long strings, control
characters, and times or dates no part of lotline could read back.

Invariants (every ``Input``, whatever its field types, through ``Input._readable``):
- no string anywhere in an input holds a NUL byte (PostgreSQL text cannot store one);
- every timestamp's UTC instant and every date lies in [EARLIEST, LATEST): psycopg reads a
  timestamptz back as a Python datetime (years 1-9999, in the connection's time zone), expiry adds
  up to 100 years of shelf life, and XLSX exports start at 1900 — outside this range a stored value
  would make every later read of it fail;
- codes, names and references (``Code``, ``Name``, ``Ref``, ``Uom``) are one line: no control
  characters (CR, LF, tab, NUL, ...) nor Unicode line/paragraph separators; free text (``Text``)
  keeps newlines and tabs but no other control character.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from lotline.serialize import decimal_text

# numeric(18,6): at most 12 digits before the point and 6 after.
QTY_LIMIT = Decimal("1e12")


def _fits_numeric_18_6(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if abs(value) >= QTY_LIMIT:
        raise ValueError("must be less than 1,000,000,000,000 in absolute value (numeric(18,6))")
    if value != value.quantize(Decimal("0.000001")):
        raise ValueError("must have at most 6 decimal places")
    return value


def _nonzero(value: Decimal) -> Decimal:
    if value == 0:
        raise ValueError("must not be zero")
    return value


# The readable range of every timestamp (its UTC instant) and date, half-open.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9900, 1, 1, tzinfo=UTC)
RANGE_TEXT = "from 1900-01-01T00:00:00Z up to (not including) 9900-01-01T00:00:00Z"


def _aware(value: datetime) -> datetime:
    # Naive timestamps are taken as UTC so that stored timestamptz values never depend on the host.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def check_timestamp(value: datetime) -> datetime:
    """``value`` made aware (naive = UTC), or ValueError when its UTC instant is outside the range.

    Public for the inputs that do not come through a schema (query parameters parsed by hand).
    """
    value = _aware(value)
    try:
        instant = value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is in year 10000 in UTC
        instant = None
    if instant is None or not EARLIEST <= instant < LATEST:
        raise ValueError(f"{value.isoformat()} is out of range: timestamps must lie {RANGE_TEXT}")
    return value


def check_date(value: date) -> date:
    """``value``, or ValueError when it is outside the range."""
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(f"{value.isoformat()} is out of range: dates must lie from 1900-01-01 up to 9900-01-01")
    return value


def _describe(ch: str) -> str:
    names = {"\x00": "NUL", "\n": "LF", "\r": "CR", "\t": "tab"}
    return f"U+{ord(ch):04X}" + (f" ({names[ch]})" if ch in names else "")


def _one_line(value: str) -> str:
    # fast path (C): a printable string holds no character of category Cc, Zl or Zp (those are
    # "Other" and "Separator", which str.isprintable refuses); anything else is looked at per character
    if value.isprintable():
        return value
    for i, ch in enumerate(value):
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            raise ValueError(
                f"must be one line without control characters (CR, LF, tab, NUL, ...); "
                f"found {_describe(ch)} at position {i + 1}"
            )
    return value


def _free_text(value: str) -> str:
    if value.isprintable():  # no Cc character at all (as _one_line)
        return value
    for i, ch in enumerate(value):
        if ch not in "\n\r\t" and unicodedata.category(ch) == "Cc":
            raise ValueError(
                f"must not contain control characters other than newlines and tabs; "
                f"found {_describe(ch)} at position {i + 1}"
            )
    return value


# --- what the JSON schema says, exactly what validation accepts (schemathesis checks both ways) ---
# A decimal travels as a string ("2.5", at most 12 digits before the point and 6 after, no
# exponent, no leading zeros) or as a JSON integer; a JSON float is refused: it is a binary
# approximation, and "0.1" must mean 0.1. (Python callers may pass a Decimal.)
_INT = r"(?:0|[1-9][0-9]{0,11})"
_FRAC = r"(?:\.[0-9]{1,6})"
# a positive amount: a non-zero integer part, or 0.<up to 6 digits, one of them non-zero>
_POS = (r"(?:[1-9][0-9]{0,11}" + _FRAC + r"?|0\.(?:[1-9][0-9]{0,5}|0[1-9][0-9]{0,4}|00[1-9][0-9]{0,3}"
        r"|000[1-9][0-9]{0,2}|0000[1-9][0-9]?|00000[1-9]))")
_MAX_INT = 999_999_999_999
DECIMAL_PATTERNS = {
    "numeric": f"^-?{_INT}{_FRAC}?$",
    "quantity": f"^{_POS}$",
    "signed": f"^-?{_POS}$",
    "money": f"^{_INT}{_FRAC}?$",
}
_INTEGER_SCHEMAS: dict[str, dict[str, Any]] = {
    "numeric": {"type": "integer", "minimum": -_MAX_INT, "maximum": _MAX_INT},
    "quantity": {"type": "integer", "minimum": 1, "maximum": _MAX_INT},
    "signed": {"type": "integer", "minimum": -_MAX_INT, "maximum": _MAX_INT, "not": {"const": 0}},
    "money": {"type": "integer", "minimum": 0, "maximum": _MAX_INT},
}
_DECIMAL_TEXT = {
    "numeric": "a decimal number",
    "quantity": "a positive decimal number",
    "signed": "a non-zero decimal number",
    "money": "a decimal number of zero or more",
}


def _decimal_input(kind: str):
    regex = re.compile(DECIMAL_PATTERNS[kind])

    def parse(value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 5.0 is a JSON Schema integer
        if isinstance(value, bool | float):
            raise ValueError(
                f"must be {_DECIMAL_TEXT[kind]} written as a string (e.g. \"2.5\") or an integer; "
                "JSON floats are refused (binary approximations)"
            )
        if isinstance(value, str) and not regex.match(value):
            raise ValueError(
                f"must be {_DECIMAL_TEXT[kind]} such as \"2.5\" (at most 12 digits before the point and 6 after, "
                f"no exponent, no leading zeros); got {value!r}"
            )
        return value

    return parse


def _decimal(kind: str, *checks: Any) -> Any:
    schema = {"anyOf": [_INTEGER_SCHEMAS[kind], {"type": "string", "pattern": DECIMAL_PATTERNS[kind]}]}
    return Annotated[
        Decimal, BeforeValidator(_decimal_input(kind)), Field(allow_inf_nan=False),
        AfterValidator(_fits_numeric_18_6), *checks, WithJsonSchema(schema),
    ]


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


# a percentage strictly between 10 and 100 with at most 2 decimals (a level B effectiveness check)
_PCT = r"^(?:(?:1[1-9]|[2-9][0-9])(?:\.[0-9]{1,2})?|10\.(?:0[1-9]|[1-9][0-9]?))$"
DECIMAL_PATTERNS["share_pct"] = _PCT
_INTEGER_SCHEMAS["share_pct"] = {"type": "integer", "minimum": 11, "maximum": 99}
_DECIMAL_TEXT["share_pct"] = "a percentage above 10 and below 100 with at most 2 decimals"

Numeric = _decimal("numeric")


def _share_pct(value: Decimal) -> Decimal:
    if not 10 < value < 100 or value != value.quantize(Decimal("0.01")):
        raise ValueError("must be greater than 10 and less than 100, with at most 2 decimals")
    return value


SharePct = _decimal("share_pct", AfterValidator(_share_pct))
Quantity = _decimal("quantity", AfterValidator(_positive))
SignedQuantity = _decimal("signed", AfterValidator(_nonzero))
Money = _decimal("money", AfterValidator(_not_negative))

# One-line strings: no control character (Unicode Cc) nor line/paragraph separator; leading and
# trailing whitespace is stripped, and what remains must not be empty. The length bound applies
# to the text as sent.
_CC = "\\x00-\\x1f\\x7f-\\x9f"
_SPACE = " \\xa0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000"
ONE_LINE_PATTERN = f"^[^{_CC}\\u2028\\u2029]*[^{_CC}\\u2028\\u2029{_SPACE}][^{_CC}\\u2028\\u2029]*$"
# Free text: newlines and tabs allowed, no other control character.
_CTL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
FREE_TEXT_PATTERN = f"^[^{_CTL}]*$"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must say something: it is empty or only spaces")
    return value


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty or only spaces")
    return value


def _one_line_text(max_length: int) -> Any:
    return Annotated[
        str, Field(max_length=max_length, json_schema_extra={"pattern": ONE_LINE_PATTERN, "minLength": 1}),
        AfterValidator(_one_line), AfterValidator(_stripped),
    ]


Code = _one_line_text(64)
Name = _one_line_text(200)
Ref = _one_line_text(200)
Uom = _one_line_text(16)
Text = Annotated[str, Field(max_length=10_000, json_schema_extra={"pattern": FREE_TEXT_PATTERN}),
                 AfterValidator(_free_text)]
# a reason that is required: free text with at least one character that is not a space
REASON_PATTERN = (f"^[^{_CTL}]*[^{_CTL}\\t\\n\\r{_SPACE}][^{_CTL}]*$")
Reason = Annotated[str, Field(min_length=1, max_length=10_000, json_schema_extra={"pattern": REASON_PATTERN}),
                   AfterValidator(_free_text), AfterValidator(_not_blank)]
# Times and dates travel as ISO 8601 strings (a Python caller may pass the object): a number is
# refused, not read as a Unix time. The schema bounds the year as written (1900-9899), the server
# the UTC instant (``check_timestamp``), so an offset at the very edge of the range is refused.
_YEAR = r"(?:19[0-9]{2}|[2-8][0-9]{3}|9[0-8][0-9]{2})"
# (a date alone is read as its midnight UTC, as before: lenient and never ambiguous)
DATE_TIME_TEXT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?$"
)
DATE_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_text(kind: str, regex: re.Pattern[str], example: str):
    def parse(value: Any) -> Any:
        if isinstance(value, str):
            if not regex.match(value):
                raise ValueError(f"must be an ISO 8601 {kind} such as {example}; got {value!r}")
        elif not isinstance(value, date):  # datetime is a date too
            raise ValueError(f"must be an ISO 8601 {kind} string such as {example}")
        return value

    return parse


Timestamp = Annotated[
    datetime, BeforeValidator(_iso_text("date-time", DATE_TIME_TEXT, "2026-03-01T12:00:00Z")),
    AfterValidator(check_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": f"^{_YEAR}-"}),
]
Day = Annotated[
    date, BeforeValidator(_iso_text("date", DATE_TEXT, "2026-03-01")), AfterValidator(check_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": f"^{_YEAR}-"}),
]


def _readable(value: Any) -> Any:
    """The input-wide rules on any value: NUL-free strings, times and dates inside the range."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"must not contain NUL (U+0000); found at position {value.index(chr(0)) + 1}")
    elif isinstance(value, datetime):
        check_timestamp(value)
    elif isinstance(value, date):
        check_date(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            _readable(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _readable(k)
            _readable(v)
    return value


class Input(BaseModel):
    """Base of every input schema: unknown fields are refused, not silently dropped; every field,
    whatever its type, obeys the input-wide rules of this module's docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _readable(cls, value: Any) -> Any:
        return _readable(value)


def fmt_qty(value: Decimal) -> str:
    """A quantity for messages: 480.000000 -> '480', 0.500000 -> '0.5' (``serialize.decimal_text``)."""
    return decimal_text(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def check_one_line(value: str) -> str:
    """``value`` if it is one line without control characters; ValueError naming the first one."""
    return _one_line(value)


def _as_of_text(value: Any) -> Any:
    # "as of" a date alone means the start of that day, UTC (as the CLI's --as-of)
    if isinstance(value, str) and DATE_TEXT.match(value):
        return value + "T00:00:00Z"
    return value


# An "as of" time: a date-time or a date alone (the start of that day, UTC).
AsOf = Annotated[
    datetime, BeforeValidator(_iso_text("date-time or date", DATE_TIME_TEXT, "2026-03-01T12:00:00Z")),
    BeforeValidator(_as_of_text), AfterValidator(check_timestamp),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time", "pattern": f"^{_YEAR}-"},
                              {"type": "string", "format": "date", "pattern": f"^{_YEAR}-"}]}),
]
