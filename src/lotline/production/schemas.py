"""Input schemas for work orders and their executions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from lotline.inventory.schemas import MAX_LINES, LotQty
from lotline.types import Code, Input, Quantity, Ref, Text, Timestamp


class WorkOrderIn(Input):
    number: Code
    item: Ref
    planned_quantity: Quantity
    due_at: Timestamp | None = None
    notes: Text | None = None


class ConsumeLine(Input):
    item: Ref
    location: Code
    quantity: Quantity
    # None: allocate released lots first-expiry-first-out.
    lots: Annotated[list[LotQty], Field(max_length=MAX_LINES)] | None = None


class ProduceLine(Input):
    location: Code
    quantity: Quantity
    lot_code: Code
    item: Ref | None = None  # default: the work order's item
    expires_at: Timestamp | None = None
    notes: Text | None = None


class ExecutionIn(Input):
    occurred_at: Timestamp | None = None
    external_ref: Ref | None = None
    notes: Text | None = None
    consume: Annotated[list[ConsumeLine], Field(max_length=MAX_LINES)] = []
    produce: Annotated[list[ProduceLine], Field(min_length=1, max_length=MAX_LINES)]
