"""Input schemas for inventory postings.

Quantities here are unsigned (what a person types: receive 100, scrap 5); the service applies the
sign of the movement type. Adjustments are the exception and take signed quantities.
References (item, location, vendor, customer, lot) are a UUID or the natural key (SKU, code).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from lotline.lots.schemas import NewLot
from lotline.types import Code, Input, Money, Quantity, Ref, SignedQuantity, Text, Timestamp

MAX_LINES = 1000


class LotQty(Input):
    lot: Ref
    quantity: Quantity


class SignedLotQty(Input):
    lot: Ref
    quantity: SignedQuantity


class ReceivedLot(NewLot):
    quantity: Quantity


class ReceiptLine(Input):
    item: Ref
    location: Code
    quantity: Quantity
    unit_cost: Money | None = None
    lots: Annotated[list[ReceivedLot], Field(max_length=MAX_LINES)] = []


class ReceiptIn(Input):
    vendor: Ref
    occurred_at: Timestamp | None = None
    external_ref: Ref | None = None
    notes: Text | None = None
    lines: Annotated[list[ReceiptLine], Field(min_length=1, max_length=MAX_LINES)]


class TransferIn(Input):
    item: Ref
    from_location: Code
    to_location: Code
    quantity: Quantity
    lots: Annotated[list[LotQty], Field(max_length=MAX_LINES)] | None = None
    occurred_at: Timestamp | None = None
    external_ref: Ref | None = None
    notes: Text | None = None


class AdjustmentLine(Input):
    item: Ref
    location: Code
    quantity: SignedQuantity
    lots: Annotated[list[SignedLotQty], Field(max_length=MAX_LINES)] = []


class AdjustmentIn(Input):
    reason: Annotated[str, Field(min_length=1, max_length=10_000)]
    occurred_at: Timestamp | None = None
    external_ref: Ref | None = None
    lines: Annotated[list[AdjustmentLine], Field(min_length=1, max_length=MAX_LINES)]


class ScrapIn(Input):
    item: Ref
    location: Code
    quantity: Quantity
    lots: Annotated[list[LotQty], Field(max_length=MAX_LINES)] | None = None
    occurred_at: Timestamp | None = None
    external_ref: Ref | None = None
    notes: Text | None = None


class ReturnLine(Input):
    item: Ref
    location: Code
    quantity: Quantity
    lots: Annotated[list[LotQty], Field(max_length=MAX_LINES)] = []


class ReturnIn(Input):
    customer: Ref
    occurred_at: Timestamp | None = None
    external_ref: Ref | None = None
    notes: Text | None = None
    lines: Annotated[list[ReturnLine], Field(min_length=1, max_length=MAX_LINES)]


class ReversalIn(Input):
    reason: Annotated[str, Field(min_length=1, max_length=10_000)]
    occurred_at: Timestamp | None = None
