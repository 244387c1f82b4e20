"""Input schemas for master data."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from lotline.types import Code, Input, Money, Name, Text, Uom
from lotline.vocab import LocationKind


class ItemIn(Input):
    sku: Code
    name: Name
    uom: Uom = "ea"
    lot_tracked: bool = True
    shelf_life_days: Annotated[int, Field(gt=0, le=36_500)] | None = None
    standard_cost: Money = Decimal(0)


class LocationIn(Input):
    code: Code
    name: Name
    kind: LocationKind = LocationKind.STORAGE


class PartyIn(Input):
    """A vendor or a customer."""

    code: Code
    name: Name
    contact_email: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
        | None
    ) = None
    contact_phone: Name | None = None
    address: Text | None = None
