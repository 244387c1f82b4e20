"""Validated input types shared by every domain's schemas.

They make bad input fail at the edge with a message naming the field: NaN/Infinity, quantities
beyond numeric(18,6), zero where zero means nothing, empty or over-long strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

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


def _aware(value: datetime) -> datetime:
    # Naive timestamps are taken as UTC so that stored timestamptz values never depend on the host.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Numeric = Annotated[Decimal, Field(allow_inf_nan=False), AfterValidator(_fits_numeric_18_6)]
Quantity = Annotated[Decimal, Field(gt=0, allow_inf_nan=False), AfterValidator(_fits_numeric_18_6)]
SignedQuantity = Annotated[
    Decimal, Field(allow_inf_nan=False), AfterValidator(_fits_numeric_18_6), AfterValidator(_nonzero)
]
Money = Annotated[Decimal, Field(ge=0, allow_inf_nan=False), AfterValidator(_fits_numeric_18_6)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=10_000)]
Uom = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Timestamp = Annotated[datetime, AfterValidator(_aware)]


class Input(BaseModel):
    """Base of every input schema: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def fmt_qty(value: Decimal) -> str:
    """A quantity for messages: 480.000000 -> '480', 0.500000 -> '0.5'."""
    text = f"{Decimal(value).normalize():f}"
    return text


def utcnow() -> datetime:
    return datetime.now(UTC)
