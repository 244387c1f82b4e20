"""Response models of the recall routes (``api/routers/recalls.py``, ``recall_completion.py``).

Each model lists exactly the fields its service returns (``recalls.cases``, ``runs``, ``actions``,
``communications``, ``status``, ``strategy``, ``consignees``, ``checks``, ``status_reports``,
``inbound``, ``flows.notify``); quantities are ``DecimalText`` and stored words the StrEnums of
``lotline.vocab``. Status-report figures are snapshots stored as JSON whose fields follow the
effectiveness and consignee-figure models of the day they were issued, so they stay open objects.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from lotline.api.schemas import Out, RecallCaseOut, SignatureOut
from lotline.serialize import DecimalText
from lotline.vocab import (
    ActionStatus,
    ActionType,
    Channel,
    CheckResult,
    EffectivenessLevel,
    FdaClass,
    LotRole,
    LotStatus,
    NoticeStatus,
    PublicWarning,
    RecallDepth,
    RecallStatus,
    ResponseChannel,
    TargetType,
    TraceRunStatus,
)

Change = Literal["added", "removed"]

# ---------------------------------------------------------------------------- targets, runs


class TargetOut(Out):
    """A lot or an item the case recalls (an item target covers all its lots, or its shipments)."""

    id: uuid.UUID
    target_type: TargetType
    lot_id: uuid.UUID | None
    lot_code: str | None
    item_id: uuid.UUID
    sku: str
    item_name: str
    uom: str
    lot_tracked: bool
    created_at: datetime


class RunRow(Out):
    """A trace run with its counts (lots, shipments, customers)."""

    id: uuid.UUID
    status: TraceRunStatus
    as_of: datetime
    computed_at: datetime
    lots: int
    shipments: int
    customers: int
    notes: str | None


class ImpactedLot(Out):
    lot_id: uuid.UUID
    lot_code: str
    sku: str
    item_name: str
    uom: str
    role: LotRole
    status: LotStatus
    expires_at: datetime | None
    on_hand: DecimalText


class ImpactedShipment(Out):
    shipment_id: uuid.UUID
    sales_order_number: str
    shipped_at: datetime
    customer_id: uuid.UUID
    customer_code: str
    customer_name: str
    contact_email: str | None


class RunOut(Out):
    """A trace run with every impacted lot and shipment."""

    id: uuid.UUID
    recall_case_id: uuid.UUID
    status: TraceRunStatus
    as_of: datetime
    computed_at: datetime
    notes: str | None
    impacted_lots: list[ImpactedLot]
    impacted_shipments: list[ImpactedShipment]


class LotChange(Out):
    change: Change
    lot_id: uuid.UUID
    lot_code: str
    sku: str
    role: LotRole


class ShipmentChange(Out):
    change: Change
    shipment_id: uuid.UUID
    sales_order_number: str
    shipped_at: datetime
    customer_code: str


class RunDiff(Out):
    """What became impacted in the newer run (``added``) and what stopped being (``removed``)."""

    lots: list[LotChange]
    shipments: list[ShipmentChange]


class RecallCaseDetail(RecallCaseOut):
    targets: list[TargetOut]
    trace_runs: list[RunRow]


# ------------------------------------------------------------------------ actions, notices


class ActionOut(Out):
    """An action of the case: a lot action (block, quarantine, scrap, restock) or a customer notice."""

    id: uuid.UUID
    action_type: ActionType
    status: ActionStatus
    lot_id: uuid.UUID | None
    lot_code: str | None
    sku: str | None
    shipment_id: uuid.UUID | None
    customer_code: str | None
    inventory_movement_id: uuid.UUID | None
    notes: str | None
    created_at: datetime
    updated_at: datetime


class Planned(Out):
    planned: int


class NoticeOut(Out):
    """A notice (recall communication) to one customer."""

    id: uuid.UUID
    channel: Channel
    status: NoticeStatus
    customer_code: str | None
    customer_name: str | None
    contact_email: str | None
    subject: str | None
    sent_at: datetime | None
    external_ref: str | None
    created_at: datetime


class SendResultOut(Out):
    """What became of sending one notice."""

    communication_id: uuid.UUID
    customer_code: str | None
    recipient: str | None
    status: Literal["sent", "failed"]
    message_id: str | None
    sent_at: datetime | None
    error: str | None


# ---------------------------------------------------------------------------- effectiveness


class RecoveredQuantity(Out):
    """Impacted against recovered quantity of one unit of measure (21 CFR 7.53)."""

    uom: str
    impacted: DecimalText
    quarantined: DecimalText
    scrapped: DecimalText
    returned: DecimalText
    recovered: DecimalText
    recovered_pct: DecimalText | None


class ActionCounts(Out):
    planned: int
    in_progress: int
    completed: int
    canceled: int


class Effectiveness(Out):
    """The status-report figures of a case: customers notified, quantities recovered, timings."""

    recall_number: str
    status: RecallStatus
    trace_run_id: uuid.UUID | None
    customers_impacted: int
    customers_notified: int
    customers_failed: int
    customers_not_notified: int
    quantities: list[RecoveredQuantity]
    initiated_at: datetime | None
    first_trace_run_at: datetime | None
    last_notice_at: datetime | None
    seconds_to_first_trace_run: float | None
    seconds_to_last_notice: float | None
    actions: ActionCounts


# ------------------------------------------------------------------- strategy, consignees


class StrategyOut(Out):
    """The 21 CFR 7.42 strategy; ``check_share_pct`` is the share of consignees a check reaches."""

    fda_class: FdaClass
    depth: RecallDepth
    public_warning: PublicWarning
    effectiveness_level: EffectivenessLevel
    effectiveness_pct: DecimalText | None
    reason: str
    health_hazard: str
    product_description: str
    response_deadline: datetime
    reminder_interval_hours: int
    reminder_max: int
    status_report_interval_days: int | None
    coordinator_name: str | None
    coordinator_email: str | None
    check_share_pct: DecimalText
    updated_at: datetime


class ConsigneeOut(Out):
    """A consignee (a direct customer, or one a response named as forwarded to) and its latest news."""

    id: uuid.UUID
    depth: int
    name: str
    email: str | None
    phone: str | None
    parent_consignee_id: uuid.UUID | None
    retired_at: datetime | None
    customer: str | None
    forwarded_by: str | None
    responded_at: datetime | None
    response_channel: ResponseChannel | None
    holds_product: bool | None
    quantity_on_hand: DecimalText | None
    quantity_returned: DecimalText | None
    quantity_destroyed: DecimalText | None
    forwarded: bool | None
    reminders_sent: int
    last_reminder_at: datetime | None
    check_result: CheckResult | None
    sampled: bool


class ResponseLink(Out):
    """A personal response link; shown this once (only its hash is stored)."""

    url: str


class NewConsignee(Out):
    id: uuid.UUID
    name: str
    depth: int


class RecordedResponse(Out):
    response_id: uuid.UUID
    new_consignees: list[NewConsignee]


class ResponseOut(Out):
    """A consignee's response (append-only)."""

    id: uuid.UUID
    consignee_id: uuid.UUID
    consignee: str
    received_at: datetime
    channel: ResponseChannel
    responder: str
    recorded_by: str | None
    acknowledged: bool
    holds_product: bool
    quantity_on_hand: DecimalText
    quantity_returned: DecimalText
    quantity_destroyed: DecimalText
    forwarded: bool
    notes: str | None


class CheckOut(Out):
    """One sampled effectiveness check (``result`` null until recorded)."""

    id: uuid.UUID
    consignee_id: uuid.UUID
    consignee: str
    depth: int
    seed: int
    drawn_at: datetime
    result: CheckResult | None
    checked_at: datetime | None
    checked_by: str | None
    notes: str | None


class CheckFigures(Out):
    level: EffectivenessLevel | None
    required_pct: DecimalText | None
    drawn: int
    done: int
    effective: int
    ineffective: int
    unreachable: int


class ConsigneeFigures(Out):
    """21 CFR 7.53 consignee figures (latest response of each consignee)."""

    consignees: int
    direct_consignees: int
    sub_consignees: int
    responding: int
    not_responding: int
    overdue: int | None
    still_holding: int
    reported_on_hand: DecimalText
    reported_returned: DecimalText
    reported_destroyed: DecimalText
    response_rate_pct: DecimalText | None
    effectiveness_checks: CheckFigures
    effectiveness_met: bool | None


class StatusReportOut(Out):
    """An issued status report: the figures as they stood, and the changes since the one before."""

    seq: int
    issued_at: datetime
    issued_by: str | None
    figures: dict[str, Any]
    changes: dict[str, Any]


# ------------------------------------------------------------------------------- inbound


class MatchedLot(Out):
    id: uuid.UUID
    lot_code: str
    vendor_lot_code: str | None
    sku: str
    received_at: datetime | None


class InboundCase(Out):
    """The draft case an inbound notice opened, and the lots it targets."""

    recall_number: str
    case_id: uuid.UUID
    lots: list[MatchedLot]


# ------------------------------------------------------------------------------- reports


class TraceRunRef(Out):
    id: uuid.UUID
    as_of: datetime
    computed_at: datetime
    notes: str | None


class RecallReport(Out):
    """The recall report (``report.json``): the case, its signatures, timeline, targets, runs, the
    latest run's impacted lots and customers, actions, notices and effectiveness. The timeline's
    and customers' rows are the report's own (``lotline.reports.recall_data``)."""

    case: RecallCaseOut
    signatures: list[SignatureOut]
    generated_at: datetime
    timeline: list[dict[str, Any]]
    targets: list[TargetOut]
    trace_runs: list[RunRow]
    trace_run: TraceRunRef | None
    impacted_lots: list[ImpactedLot]
    impacted_customers: list[dict[str, Any]]
    actions: list[ActionOut]
    communications: list[NoticeOut]
    effectiveness: Effectiveness


class InitialReport(Out):
    """The 21 CFR 7.46 initial report as JSON (``initial-report?format=json``); its product, total,
    notice and distribution rows are the report's own (``lotline.reports.initial_report``)."""

    generated_at: datetime
    case: dict[str, Any]
    strategy: StrategyOut
    products: list[dict[str, Any]]
    lot_codes: list[str]
    totals: list[dict[str, Any]]
    distribution: dict[str, Any]
    accounts: list[ConsigneeOut]
    notice: dict[str, Any] | None
    contact: dict[str, Any]
