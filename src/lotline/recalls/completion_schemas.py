"""Input schemas for running a recall to completion: strategy (21 CFR 7.42), consignee responses
(7.49), sub-accounts (sub-recalls), effectiveness checks, inbound notices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from lotline.errors import InvalidInput
from lotline.types import Code, Input, Money, Name, Ref, Text, Timestamp
from lotline.vocab import CheckResult, EffectivenessLevel, FdaClass, PublicWarning, Severity
from lotline.vocab import RecallDepth as Depth

Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                         pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40,
                                         pattern=r"^[0-9+()./ \-]+$")]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class StrategyIn(Input):
    """The recall strategy (21 CFR 7.42). Level B takes the share of consignees to check."""

    fda_class: FdaClass
    depth: Depth
    public_warning: PublicWarning
    effectiveness_level: EffectivenessLevel
    effectiveness_pct: Annotated[Decimal, Field(gt=10, lt=100, max_digits=5, decimal_places=2)] | None = None
    reason: Summary
    health_hazard: Summary
    product_description: Summary
    response_deadline: Timestamp
    reminder_interval_hours: Annotated[int, Field(ge=1, le=8760)] = 48
    reminder_max: Annotated[int, Field(ge=0, le=20)] = 3
    status_report_interval_days: Annotated[int, Field(ge=1, le=365)] | None = None
    coordinator_name: Name | None = None
    coordinator_email: Email | None = None

    @model_validator(mode="after")
    def _level_b_needs_a_share(self) -> StrategyIn:
        if self.effectiveness_level == EffectivenessLevel.B and self.effectiveness_pct is None:
            raise ValueError("effectiveness level B needs effectiveness_pct (between 10 and 100 percent)")
        if self.effectiveness_level != EffectivenessLevel.B and self.effectiveness_pct is not None:
            raise ValueError("effectiveness_pct applies to level B only (A = 100 %, C = 10 %, D = 2 %, E = none)")
        return self


class SubAccountIn(Input):
    """A customer of the consignee to whom it forwarded the recall."""

    name: Name
    email: Email | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _reachable(self) -> SubAccountIn:
        if self.email is None and self.phone is None:
            raise ValueError("a sub-account needs an email or a phone number to be reached")
        return self


class ResponseIn(Input):
    """What a consignee answers (through its link, or as recorded by a quality user)."""

    acknowledged: bool = True
    holds_product: bool
    quantity_on_hand: Money = Decimal(0)
    quantity_returned: Money = Decimal(0)
    quantity_destroyed: Money = Decimal(0)
    forwarded: bool = False
    sub_accounts: Annotated[list[SubAccountIn], Field(max_length=200)] = []
    responder: Name
    notes: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ResponseIn:
        if not self.holds_product and self.quantity_on_hand:
            raise ValueError("quantity_on_hand must be 0 when holds_product is false")
        if self.sub_accounts and not self.forwarded:
            raise ValueError("sub_accounts are the customers the recall was forwarded to: set forwarded")
        return self


class RecordedResponseIn(ResponseIn):
    """A response taken by phone, letter, email or portal and recorded by a quality user."""

    channel: Literal["phone", "letter", "email", "portal"]
    received_at: Timestamp | None = None


class CheckResultIn(Input):
    result: CheckResult
    notes: Text | None = None


class InboundNoticeIn(Input):
    """A supplier's or regulator's recall notice: which of our receipts it concerns."""

    vendor: Ref
    vendor_lot_codes: Annotated[list[Code], Field(max_length=10_000)] = []
    items: Annotated[list[Ref], Field(max_length=1_000)] = []
    received_from: date | None = None
    received_to: date | None = None
    summary: Summary
    severity: Severity | None = None

    @model_validator(mode="after")
    def _something_to_match(self) -> InboundNoticeIn:
        if not self.vendor_lot_codes and not self.items and self.received_from is None:
            raise ValueError("an inbound notice names vendor lot codes, items or a date range")
        if self.received_from and self.received_to and self.received_to < self.received_from:
            raise ValueError("received_to is before received_from")
        return self


def strategy_from_file(path) -> StrategyIn:
    """A strategy from a JSON file (the API's body); InvalidInput names an unreadable file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the strategy file {str(path)!r}: {exc}") from exc
    return StrategyIn.model_validate_json(text)
