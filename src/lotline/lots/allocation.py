"""Lot allocation policy: a pure function, FEFO (first expiry, first out).

Given a quantity to take and the lots available at a location, choose lots earliest-expiring
first (lots without expiry last), then oldest received, then by lot code, so the choice is
deterministic. The allocations always sum exactly to the requested quantity, or the call raises.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from lotline.errors import InsufficientQuantity


# Named tuples (immutable, as cheap to make as a tuple): a pick makes one per stocked lot of the place.
class Candidate(NamedTuple):
    lot_id: uuid.UUID
    lot_code: str
    available: Decimal
    expires_at: datetime | None = None
    received_at: datetime | None = None


class Allocation(NamedTuple):
    lot_id: uuid.UUID
    lot_code: str
    quantity: Decimal


_FAR = datetime.max.replace(tzinfo=None)


def fefo_key(c: Candidate) -> tuple:
    exp = c.expires_at.replace(tzinfo=None) if c.expires_at else _FAR
    rec = c.received_at.replace(tzinfo=None) if c.received_at else _FAR
    return (exp, rec, c.lot_code)


def allocate(quantity: Decimal, candidates: list[Candidate], *, what: str = "") -> list[Allocation]:
    """Split ``quantity`` (> 0) over ``candidates`` FEFO; raises InsufficientQuantity if short."""
    if quantity <= 0:
        raise ValueError("quantity to allocate must be positive")
    usable = sorted((c for c in candidates if c.available > 0), key=fefo_key)
    total = sum((c.available for c in usable), Decimal(0))
    if total < quantity:
        raise InsufficientQuantity(
            f"only {total} available in released lots{(' of ' + what) if what else ''}, {quantity} requested",
            available=str(total),
            requested=str(quantity),
        )
    out: list[Allocation] = []
    remaining = quantity
    for c in usable:
        take = min(c.available, remaining)
        out.append(Allocation(c.lot_id, c.lot_code, take))
        remaining -= take
        if remaining == 0:
            break
    return out
