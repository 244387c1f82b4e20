"""Input schemas for recall cases, targets, trace runs, actions and communications."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from lotline.auth.schemas import SignatureIn
from lotline.types import Code, Input, Ref, Text, Timestamp, Uom
from lotline.vocab import LOT_ACTIONS, ActionStatus, ActionType, Channel, Direction, Severity
from lotline.vocab import RecallStatus as CaseStatus

# the vocabulary these schemas use, importable from here as before
__all__ = ["LOT_ACTIONS", "ActionStatus", "ActionType", "CaseStatus", "Channel", "Direction", "Severity"]

# A recall number names files and downloads (``<number>-fsma204.csv``) and goes into email headers,
# so it is plain ASCII: letters, digits and . _ - inside, a letter or digit at each end (RC-2026-0001,
# F-0123-2026). No path separators, dots-only names, spaces, quotes or control characters.
_RECALL_NUMBER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?")


def _recall_number(value: str) -> str:
    if not _RECALL_NUMBER.fullmatch(value):
        raise ValueError(
            f"recall number {value!r} must be 1-64 ASCII letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit (e.g. RC-2026-0001)"
        )
    return value


RecallNumber = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_recall_number)]


class CaseIn(Input):
    """A new recall case; the number is generated (RC-<year>-<nnnn>) unless given."""

    recall_number: RecallNumber | None = None
    severity: Severity | None = None
    summary: Text | None = None
    notes: Text | None = None


class CaseUpdate(Input):
    severity: Severity | None = None
    summary: Text | None = None
    notes: Text | None = None


class TransitionIn(Input):
    """When a lifecycle step happened (initiated_at / closed_at); now if omitted."""

    at: Timestamp | None = None
    reason: Text | None = None
    # activate and close: the actor's electronic signature (password again + meaning)
    signature: SignatureIn | None = None


class TargetIn(Input):
    """A lot (code or id, plus the item when the code is ambiguous) or a whole item (and uom)."""

    lot: Ref | None = None
    item: Ref | None = None
    uom: Uom | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TargetIn:
        if self.lot is None and self.item is None:
            raise ValueError("a target needs a lot or an item")
        if self.lot is not None and self.uom is not None:
            raise ValueError("uom applies to item targets only")
        return self


class RunIn(Input):
    """Compute a trace run as of a time (now if omitted)."""

    as_of: Timestamp | None = None
    direction: Direction = Direction.BOTH
    max_depth: int | None = Field(default=None, ge=0, le=10_000)
    notes: Text | None = None


class ActionIn(Input):
    action_type: ActionType
    lot: Ref | None = None
    item: Ref | None = None  # disambiguates a lot code used by several items
    shipment: Ref | None = None  # sales_order_shipment id (customer_notify)
    notes: Text | None = None

    @model_validator(mode="after")
    def _shape(self) -> ActionIn:
        if self.action_type in LOT_ACTIONS and self.lot is None:
            raise ValueError(f"a {self.action_type} action needs a lot")
        if self.action_type == "customer_notify" and self.lot is not None:
            raise ValueError("a customer_notify action takes a shipment, not a lot")
        if self.action_type in LOT_ACTIONS and self.shipment is not None:
            raise ValueError(f"a {self.action_type} action takes a lot, not a shipment")
        return self


class ActionRun(Input):
    """Carry out an action: when it happened, where stock goes, which channel notices use."""

    occurred_at: Timestamp | None = None
    location: Code | None = None  # quarantine_lot: a quarantine location; restock_lot: a storage one
    channel: Channel = Channel.EMAIL
    notes: Text | None = None


class DraftIn(Input):
    channel: Channel = Channel.EMAIL
    customers: list[Ref] | None = None  # default: every impacted customer of the latest run
    instructions: Text | None = None


class RecordIn(Input):
    """Outcome of a notice sent by hand (phone, letter, portal)."""

    status: Literal["sent", "failed"]
    sent_at: Timestamp | None = None
    reference: Text | None = None
