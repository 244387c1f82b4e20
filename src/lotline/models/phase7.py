"""Mappings of the 14 frozen Phase 7 tables (migrations 0002-0015, the spec's DDL verbatim).

Never change a column here without the spec: tests/db compares these with the migrated catalog.
Phase 7 ``updated_at`` columns have no default in the DDL; ``updated()`` sets them on every write.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from lotline.models.base import Base, created, pk, updated


class Lot(Base):
    __tablename__ = "lots"
    id: Mapped[uuid.UUID] = pk()
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"))
    lot_code: Mapped[str]
    status: Mapped[str]
    manufactured_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    vendor_lot_code: Mapped[str | None]
    notes: Mapped[str | None]
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class InventoryMovementLot(Base):
    __tablename__ = "inventory_movement_lots"
    id: Mapped[uuid.UUID] = pk()
    inventory_movement_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_movement_lines.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"))
    uom: Mapped[str]
    quantity_delta: Mapped[Decimal]
    created_at: Mapped[datetime] = created()


class WorkOrderLotLink(Base):
    __tablename__ = "work_order_lot_links"
    id: Mapped[uuid.UUID] = pk()
    work_order_execution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order_executions.id"))
    inventory_movement_lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_movement_lots.id"))
    role: Mapped[str]
    created_at: Mapped[datetime] = created()


class ShipmentLotLink(Base):
    __tablename__ = "shipment_lot_links"
    id: Mapped[uuid.UUID] = pk()
    sales_order_shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_shipments.id"))
    inventory_movement_lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_movement_lots.id"))
    created_at: Mapped[datetime] = created()


class RecallCase(Base):
    __tablename__ = "recall_cases"
    id: Mapped[uuid.UUID] = pk()
    recall_number: Mapped[str]
    status: Mapped[str]
    severity: Mapped[str | None]
    initiated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    summary: Mapped[str | None]
    notes: Mapped[str | None]
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class RecallCaseTarget(Base):
    __tablename__ = "recall_case_targets"
    id: Mapped[uuid.UUID] = pk()
    recall_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_cases.id"))
    target_type: Mapped[str]
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lots.id"))
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("items.id"))
    uom: Mapped[str | None]
    created_at: Mapped[datetime] = created()


class RecallTraceRun(Base):
    __tablename__ = "recall_trace_runs"
    id: Mapped[uuid.UUID] = pk()
    recall_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_cases.id"))
    as_of: Mapped[datetime]
    status: Mapped[str]
    notes: Mapped[str | None]
    computed_at: Mapped[datetime] = created()


class RecallImpactedShipment(Base):
    __tablename__ = "recall_impacted_shipments"
    id: Mapped[uuid.UUID] = pk()
    recall_trace_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_trace_runs.id"))
    sales_order_shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_shipments.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[datetime] = created()


class RecallImpactedLot(Base):
    __tablename__ = "recall_impacted_lots"
    id: Mapped[uuid.UUID] = pk()
    recall_trace_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_trace_runs.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"))
    role: Mapped[str]
    created_at: Mapped[datetime] = created()


class RecallAction(Base):
    __tablename__ = "recall_actions"
    id: Mapped[uuid.UUID] = pk()
    recall_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_cases.id"))
    action_type: Mapped[str]
    status: Mapped[str]
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lots.id"))
    sales_order_shipment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order_shipments.id"))
    inventory_movement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inventory_movements.id"))
    notes: Mapped[str | None]
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class RecallCommunication(Base):
    __tablename__ = "recall_communications"
    id: Mapped[uuid.UUID] = pk()
    recall_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall_cases.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str]
    status: Mapped[str]
    sent_at: Mapped[datetime | None]
    subject: Mapped[str | None]
    body: Mapped[str | None]
    external_ref: Mapped[str | None]
    created_at: Mapped[datetime] = created()


class KpiRun(Base):
    __tablename__ = "kpi_runs"
    id: Mapped[uuid.UUID] = pk()
    status: Mapped[str]
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    as_of: Mapped[datetime | None]
    notes: Mapped[str | None]
    created_at: Mapped[datetime] = created()


class KpiSnapshot(Base):
    __tablename__ = "kpi_snapshots"
    id: Mapped[uuid.UUID] = pk()
    kpi_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kpi_runs.id"))
    kpi_name: Mapped[str]
    dimensions: Mapped[dict[str, Any]]
    value: Mapped[Decimal | None]
    units: Mapped[str | None]
    computed_at: Mapped[datetime] = created()


class KpiRollupInput(Base):
    __tablename__ = "kpi_rollup_inputs"
    id: Mapped[uuid.UUID] = pk()
    kpi_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kpi_runs.id"))
    metric_name: Mapped[str]
    dimensions: Mapped[dict[str, Any]]
    numerator_qty: Mapped[Decimal | None]
    denominator_qty: Mapped[Decimal | None]
    computed_at: Mapped[datetime] = created()
