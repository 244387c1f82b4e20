"""The words lotline stores: status, type and kind values, one StrEnum each.

Each enum lists exactly the values of one CHECK constraint of the migrated database (Phase 7's
frozen tables and ours; ``tests/db/test_vocabulary.py`` compares them), so Python, the API and the
SQL speak one vocabulary. Members are ``str``: they compare equal to the stored text, bind as text
and print as their value; schemas type their fields with them (the API refuses any other value with
the list of allowed ones). ``.sql`` files still spell the values out: the constraint test is what
keeps both sides in step.
"""

from __future__ import annotations

from enum import StrEnum


class LocationKind(StrEnum):
    STORAGE = "storage"
    RECEIVING = "receiving"
    QUARANTINE = "quarantine"
    SCRAP = "scrap"
    PRODUCTION = "production"
    SHIPPING = "shipping"


class MovementType(StrEnum):
    """inventory_movements.movement_type and inventory_movement_lines.movement_type."""

    RECEIPT = "receipt"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    PRODUCTION_CONSUME = "production_consume"
    PRODUCTION_PRODUCE = "production_produce"
    SHIPMENT = "shipment"
    SCRAP = "scrap"
    RETURN = "return"


class MovementStatus(StrEnum):
    POSTED = "posted"
    REVERSED = "reversed"


class OrderStatus(StrEnum):
    """work_orders.status and sales_orders.status."""

    OPEN = "open"
    CLOSED = "closed"
    CANCELED = "canceled"


class LotStatus(StrEnum):
    ACTIVE = "active"
    QUARANTINE = "quarantine"
    BLOCKED = "blocked"
    CONSUMED = "consumed"
    EXPIRED = "expired"


class LotLinkRole(StrEnum):
    """work_order_lot_links.role: a consumed lot is a parent of every produced lot of its execution."""

    CONSUME = "consume"
    PRODUCE = "produce"


class Direction(StrEnum):
    """A trace's direction (no column of its own: recall runs store it in their parameters)."""

    FORWARD = "forward"
    BACKWARD = "backward"
    BOTH = "both"


class LotRole(StrEnum):
    """A lot's role in a trace result and recall_impacted_lots.role."""

    TARGET = "target"
    UPSTREAM_COMPONENT = "upstream_component"
    DOWNSTREAM_FINISHED = "downstream_finished"


class RecallStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"
    CANCELED = "canceled"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class TargetType(StrEnum):
    LOT = "lot"
    ITEM = "item"


class TraceRunStatus(StrEnum):
    COMPUTED = "computed"
    SUPERSEDED = "superseded"


class ActionType(StrEnum):
    BLOCK_LOT = "block_lot"
    QUARANTINE_LOT = "quarantine_lot"
    SCRAP_LOT = "scrap_lot"
    RESTOCK_LOT = "restock_lot"
    CUSTOMER_NOTIFY = "customer_notify"


LOT_ACTIONS = (ActionType.BLOCK_LOT, ActionType.QUARANTINE_LOT, ActionType.SCRAP_LOT, ActionType.RESTOCK_LOT)


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELED = "canceled"


class NoticeStatus(StrEnum):
    """recall_communications.status."""

    DRAFT = "draft"
    SENT = "sent"
    FAILED = "failed"


class Channel(StrEnum):
    """recall_communications.channel: how a notice goes out."""

    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    PORTAL = "portal"


class ResponseChannel(StrEnum):
    """recall_responses.channel: how a consignee's response came in (``link``: the notice's link)."""

    LINK = "link"
    PHONE = "phone"
    LETTER = "letter"
    EMAIL = "email"
    PORTAL = "portal"


class ReminderKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"


class ReminderStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"


class FdaClass(StrEnum):
    I = "I"  # noqa: E741 — the FDA's own class names
    II = "II"
    III = "III"


class RecallDepth(StrEnum):
    WHOLESALE = "wholesale"
    RETAIL = "retail"
    CONSUMER = "consumer"


class PublicWarning(StrEnum):
    NONE = "none"
    GENERAL = "general"
    SPECIALIZED = "specialized"


class EffectivenessLevel(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class CheckResult(StrEnum):
    EFFECTIVE = "effective"
    INEFFECTIVE = "ineffective"
    UNREACHABLE = "unreachable"


class KpiRunStatus(StrEnum):
    DRAFT = "draft"
    COMPUTED = "computed"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class FillDimension(StrEnum):
    """kpi_line_fill_months.dimension: what the monthly fill sums are summed by."""

    ITEM = "item"
    CUSTOMER = "customer"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    QUALITY = "quality"
    ANALYST = "analyst"
    ADMIN = "admin"


class Meaning(StrEnum):
    """signatures.meaning."""

    APPROVED = "approved"
    REVIEWED = "reviewed"
    RESPONSIBLE = "responsible"


class SignedAction(StrEnum):
    """signatures.action: the steps that need an electronic signature."""

    RECALL_ACTIVATE = "recall.activate"
    RECALL_CLOSE = "recall.close"
    LOT_RELEASE = "lot.release"
    KPI_PUBLISH = "kpi.publish"


class ActorKind(StrEnum):
    USER = "user"
    OS = "os"
    DB_ROLE = "db_role"


class AuditOperation(StrEnum):
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    TRUNCATE = "TRUNCATE"
    EVENT = "EVENT"


class Gs1Target(StrEnum):
    ITEM = "item"
    LOCATION = "location"
    VENDOR = "vendor"
    CUSTOMER = "customer"


class Gs1Scheme(StrEnum):
    GTIN = "gtin"
    GLN = "gln"


class CaptureJobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"


class CaptureOutcome(StrEnum):
    """epcis_capture_results.outcome: what a capture did with one event."""

    POSTED = "posted"
    REPLAYED = "replayed"
    STORED = "stored"
    SKIPPED = "skipped"
    REFUSED = "refused"


class EventOutcome(StrEnum):
    """epcis_events.outcome: what a stored event led to."""

    POSTED = "posted"
    STORED = "stored"
    SKIPPED = "skipped"


# (table, column) -> the enum holding its CHECK constraint's values; the test walks this table.
CHECKED_COLUMNS: dict[tuple[str, str], type[StrEnum]] = {
    ("locations", "kind"): LocationKind,
    ("inventory_movements", "movement_type"): MovementType,
    ("inventory_movement_lines", "movement_type"): MovementType,
    ("inventory_movements", "status"): MovementStatus,
    ("work_orders", "status"): OrderStatus,
    ("sales_orders", "status"): OrderStatus,
    ("lots", "status"): LotStatus,
    ("work_order_lot_links", "role"): LotLinkRole,
    ("recall_cases", "status"): RecallStatus,
    ("recall_cases", "severity"): Severity,
    ("recall_case_targets", "target_type"): TargetType,
    ("recall_trace_runs", "status"): TraceRunStatus,
    ("recall_impacted_lots", "role"): LotRole,
    ("recall_actions", "status"): ActionStatus,
    ("recall_actions", "action_type"): ActionType,
    ("recall_communications", "status"): NoticeStatus,
    ("recall_communications", "channel"): Channel,
    ("recall_responses", "channel"): ResponseChannel,
    ("recall_reminders", "kind"): ReminderKind,
    ("recall_reminders", "status"): ReminderStatus,
    ("recall_strategies", "fda_class"): FdaClass,
    ("recall_strategies", "depth"): RecallDepth,
    ("recall_strategies", "public_warning"): PublicWarning,
    ("recall_strategies", "effectiveness_level"): EffectivenessLevel,
    ("recall_effectiveness_checks", "result"): CheckResult,
    ("kpi_runs", "status"): KpiRunStatus,
    ("kpi_line_fill_months", "dimension"): FillDimension,
    ("user_roles", "role"): Role,
    ("signatures", "meaning"): Meaning,
    ("signatures", "action"): SignedAction,
    ("audit_log", "actor_kind"): ActorKind,
    ("audit_log", "operation"): AuditOperation,
    ("gs1_identifiers", "target"): Gs1Target,
    ("gs1_identifiers", "scheme"): Gs1Scheme,
    ("epcis_capture_jobs", "status"): CaptureJobStatus,
    ("epcis_capture_results", "outcome"): CaptureOutcome,
    ("epcis_events", "outcome"): EventOutcome,
}
