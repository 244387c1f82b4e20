"""Response models of the JSON API: what the OpenAPI document promises each route returns.

Decimals are ``DecimalText`` (``lotline.serialize``: exact strings without trailing zeros), times
ISO 8601 strings, ids UUIDs. Models list the fields a client may rely on; a route's body is
validated against its model on the way out, so the document cannot drift from the code.
Nested documents whose shape is owned by another format (EPCIS, the trace document, reports)
are described where they are built, or left as open objects (``Document``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from lotline.serialize import DecimalText
from lotline.vocab import (
    ActorKind,
    AuditOperation,
    LocationKind,
    LotStatus,
    Meaning,
    MovementStatus,
    MovementType,
    OrderStatus,
    RecallStatus,
    Role,
    Severity,
    SignedAction,
)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Health(Out):
    status: str


class Document(Out):
    """An open JSON object (its fields are described in the route's text)."""

    model_config = ConfigDict(extra="allow")


# ------------------------------------------------------------------------------- master data


class ItemOut(Out):
    id: uuid.UUID
    sku: str
    name: str
    uom: str
    lot_tracked: bool
    shelf_life_days: int | None
    standard_cost: DecimalText
    active: bool


class LocationOut(Out):
    id: uuid.UUID
    code: str
    name: str
    kind: LocationKind
    active: bool


class PartyOut(Out):
    """A vendor or a customer."""

    id: uuid.UUID
    code: str
    name: str
    contact_email: str | None
    contact_phone: str | None
    address: str | None


# ---------------------------------------------------------------------------------- stock


class StockRow(Out):
    sku: str
    item_name: str
    uom: str
    location: str
    location_kind: LocationKind
    lot_code: str | None
    lot_status: LotStatus | None
    expires_at: datetime | None
    quantity: DecimalText
    item_id: uuid.UUID
    location_id: uuid.UUID
    lot_id: uuid.UUID | None


class LotOut(Out):
    id: uuid.UUID
    item_id: uuid.UUID
    sku: str
    lot_code: str
    status: LotStatus
    vendor_lot_code: str | None
    received_at: datetime | None
    manufactured_at: datetime | None
    expires_at: datetime | None
    notes: str | None


class LotDetail(LotOut):
    on_hand: list[StockRow]


class MovementSummary(Out):
    id: uuid.UUID
    movement_type: MovementType
    status: MovementStatus
    occurred_at: datetime
    external_ref: str | None
    lines: int


class MovementLine(Out):
    line_no: int
    sku: str
    location: str
    line_quantity: DecimalText
    uom: str
    lot_code: str | None
    lot_quantity: DecimalText | None
    lot_id: uuid.UUID | None


class MovementOut(Out):
    id: uuid.UUID
    movement_type: MovementType
    status: MovementStatus
    occurred_at: datetime
    external_ref: str | None
    party: str | None
    reverses_movement_id: uuid.UUID | None
    notes: str | None
    lines: list[MovementLine]


class PostedMovement(MovementOut):
    replayed: bool


# ---------------------------------------------------------------------- production, sales


class WorkOrderOut(Out):
    id: uuid.UUID
    number: str
    item_id: uuid.UUID
    planned_quantity: DecimalText
    uom: str
    status: OrderStatus


class WorkOrderRow(WorkOrderOut):
    sku: str


class ExecutionOut(Out):
    execution_id: uuid.UUID
    replayed: bool
    movements: list[MovementOut]


class SalesOrderRow(Out):
    id: uuid.UUID
    number: str
    customer: str
    status: OrderStatus
    ordered_at: datetime


class SalesOrderLineOut(Out):
    line_no: int
    id: uuid.UUID
    sku: str
    quantity_ordered: DecimalText
    shipped: DecimalText
    open: DecimalText
    uom: str
    due_date: date


class SalesOrderOut(Out):
    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    status: OrderStatus
    ordered_at: datetime
    lines: list[SalesOrderLineOut]


class ShipmentOut(Out):
    sales_order_shipment_id: uuid.UUID
    replayed: bool
    movement: MovementOut


# ------------------------------------------------------------------------------- recalls


class RecallCaseOut(Out):
    id: uuid.UUID
    recall_number: str
    status: RecallStatus
    severity: Severity | None
    summary: str | None
    notes: str | None
    initiated_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


# ----------------------------------------------------------------------- users and audit


class Me(Out):
    name: str
    full_name: str | None
    roles: list[Role]
    via: str


class SignedIn(Me):
    csrf_token: str
    expires_at: datetime


class UserOut(Out):
    id: uuid.UUID
    name: str
    full_name: str | None
    email: str | None
    roles: list[Role]
    active: bool
    has_password: bool
    locked_until: datetime | None
    created_at: datetime
    disabled_at: datetime | None


class TokenOut(Out):
    id: uuid.UUID
    prefix: str
    name: str
    user: str
    state: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewToken(TokenOut):
    token: str


class SignatureOut(Out):
    """An electronic signature of a record; ``valid``: its manifest still matches."""

    id: uuid.UUID
    signer: str
    full_name: str | None
    meaning: Meaning
    action: SignedAction
    signed_at: datetime
    audit_id: int | None
    valid: bool


class AuditEntry(Out):
    id: int
    at: datetime
    actor: str
    actor_kind: ActorKind | None
    db_role: str | None
    table_name: str
    record_id: str | None
    operation: AuditOperation
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    reason: str | None


# ----------------------------------------------------------------------- stock: extra reads


class LotHistoryRow(Out):
    """One movement line of a lot, with the lot's running total across locations."""

    occurred_at: datetime
    movement_type: MovementType
    movement_id: uuid.UUID
    external_ref: str | None
    line_no: int
    location: str
    quantity_delta: DecimalText
    uom: str
    running_total: DecimalText


class LotStatusEvent(Out):
    """A lot's status change from the audit trail (``INSERT``: the lot's creation)."""

    at: datetime
    actor: str
    actor_kind: ActorKind | None
    operation: AuditOperation
    from_status: LotStatus | None
    to_status: LotStatus | None
    reason: str | None


class BatchDocument(Out):
    """What became of one document of a batch (``index`` from 1, in the batch's order)."""

    index: int
    kind: str
    outcome: Literal["posted", "replayed", "refused"]
    movements: list[uuid.UUID]
    record: uuid.UUID | None
    code: str | None
    message: str | None


class BatchCounts(Out):
    posted: int
    replayed: int
    refused: int


class BatchOut(Out):
    counts: BatchCounts
    results: list[BatchDocument]
