"""Mappings of the recall-completion tables (strategy, consignees, responses, reminders,
effectiveness checks, status reports): a mirror of db/migrations/sql/recalls/recall_completion.sql."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, func
from sqlalchemy.orm import Mapped, mapped_column

from lotline.models.base import Base, created, pk


class RecallStrategy(Base):
    __tablename__ = "recall_strategies"
    recall_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_cases.id"), primary_key=True)
    fda_class: Mapped[str]
    depth: Mapped[str]
    public_warning: Mapped[str]
    effectiveness_level: Mapped[str]
    effectiveness_pct: Mapped[Decimal | None]
    reason: Mapped[str]
    health_hazard: Mapped[str]
    product_description: Mapped[str]
    response_deadline: Mapped[datetime]
    reminder_interval_hours: Mapped[int]
    reminder_max: Mapped[int]
    status_report_interval_days: Mapped[int | None]
    coordinator_name: Mapped[str | None]
    coordinator_email: Mapped[str | None]
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class RecallConsignee(Base):
    __tablename__ = "recall_consignees"
    id: Mapped[uuid.UUID] = pk()
    recall_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_cases.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    parent_consignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("recall_consignees.id"))
    depth: Mapped[int]
    name: Mapped[str]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    added_by_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("recall_trace_runs.id"))
    retired_at: Mapped[datetime | None]
    retired_by_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("recall_trace_runs.id"))
    created_at: Mapped[datetime] = created()


class RecallResponseLink(Base):
    __tablename__ = "recall_response_links"
    id: Mapped[uuid.UUID] = pk()
    consignee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_consignees.id"))
    token_hash: Mapped[bytes]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = created()
    last_used_at: Mapped[datetime | None]


class RecallResponse(Base):
    __tablename__ = "recall_responses"
    id: Mapped[uuid.UUID] = pk()
    consignee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_consignees.id"))
    received_at: Mapped[datetime] = created()
    channel: Mapped[str]
    responder: Mapped[str]
    recorded_by: Mapped[str | None]
    acknowledged: Mapped[bool]
    holds_product: Mapped[bool]
    quantity_on_hand: Mapped[Decimal]
    quantity_returned: Mapped[Decimal]
    quantity_destroyed: Mapped[Decimal]
    forwarded: Mapped[bool]
    notes: Mapped[str | None]


class RecallReminder(Base):
    __tablename__ = "recall_reminders"
    id: Mapped[uuid.UUID] = pk()
    consignee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_consignees.id"))
    seq: Mapped[int]
    kind: Mapped[str]
    status: Mapped[str]
    sent_at: Mapped[datetime] = created()
    message_id: Mapped[str | None]
    failure: Mapped[str | None]


class RecallEffectivenessCheck(Base):
    __tablename__ = "recall_effectiveness_checks"
    id: Mapped[uuid.UUID] = pk()
    recall_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_cases.id"))
    consignee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_consignees.id"))
    seed: Mapped[int]
    drawn_at: Mapped[datetime] = created()
    result: Mapped[str | None]
    checked_at: Mapped[datetime | None]
    checked_by: Mapped[str | None]
    notes: Mapped[str | None]


class RecallStatusReport(Base):
    __tablename__ = "recall_status_reports"
    id: Mapped[uuid.UUID] = pk()
    recall_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_cases.id"))
    seq: Mapped[int]
    issued_at: Mapped[datetime] = created()
    issued_by: Mapped[str | None]
    figures: Mapped[dict[str, Any]]
    changes: Mapped[dict[str, Any]]
