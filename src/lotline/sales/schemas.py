"""Input schemas for sales orders and shipments."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from lotline.inventory.schemas import MAX_LINES, LotQty
from lotline.types import Code, Day, Input, Money, Quantity, Ref, Text, Timestamp


class SalesOrderLineIn(Input):
    item: Ref
    quantity: Quantity
    due_date: Day
    promised_date: Day | None = None
    unit_price: Money | None = None


class SalesOrderIn(Input):
    number: Code
    customer: Ref
    ordered_at: Timestamp | None = None
    notes: Text | None = None
    lines: Annotated[list[SalesOrderLineIn], Field(min_length=1, max_length=MAX_LINES)]


class ShipLine(Input):
    line_no: Annotated[int, Field(gt=0, le=1_000_000)]
    location: Code
    quantity: Quantity
    # None: allocate released lots first-expiry-first-out.
    lots: Annotated[list[LotQty], Field(max_length=MAX_LINES)] | None = None


class ShipmentIn(Input):
    shipped_at: Timestamp | None = None
    external_ref: Ref | None = None
    lines: Annotated[list[ShipLine], Field(min_length=1, max_length=MAX_LINES)]
