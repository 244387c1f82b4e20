"""Input schemas for lots."""

from __future__ import annotations

from lotline.auth.schemas import SignatureIn
from lotline.types import Code, Input, Text, Timestamp
from lotline.vocab import LotStatus

__all__ = ["LotStatus", "LotStatusChange", "NewLot"]


class NewLot(Input):
    """Attributes of a lot created on receipt or production output."""

    lot_code: Code
    vendor_lot_code: Code | None = None
    manufactured_at: Timestamp | None = None
    expires_at: Timestamp | None = None
    notes: Text | None = None


class LotStatusChange(Input):
    """A status change; ``reason`` is required (audit trail), ``signature`` for a release from
    quarantine or block back to active."""

    status: LotStatus
    reason: Text | None = None
    signature: SignatureIn | None = None
