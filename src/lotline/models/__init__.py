"""SQLAlchemy mappings of every table: a mirror of the DDL in db/migrations/sql, no behaviour.

The migrations are the source of truth for the schema; these classes only let services read and
write rows. Timestamps that the DDL leaves without a default (Phase 7 ``updated_at``) are set here
by ``default``/``onupdate`` so the service maintains them on every write.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> uuid.UUID:
    return uuid.uuid4()


Qty = Numeric(18, 6)


class Base(DeclarativeBase):
    type_annotation_map = {uuid.UUID: UUID(as_uuid=True), Decimal: Qty, dict[str, Any]: JSONB}


def pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=new_id)


def created() -> Mapped[datetime]:
    return mapped_column(server_default=func.now())


def updated() -> Mapped[datetime]:
    return mapped_column(default=func.now(), onupdate=func.now())


# --- ledger core -------------------------------------------------------------------------------


class Item(Base):
    __tablename__ = "items"
    id: Mapped[uuid.UUID] = pk()
    sku: Mapped[str]
    name: Mapped[str]
    uom: Mapped[str]
    lot_tracked: Mapped[bool] = mapped_column(default=True)
    shelf_life_days: Mapped[int | None]
    standard_cost: Mapped[Decimal] = mapped_column(default=Decimal(0))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class Location(Base):
    __tablename__ = "locations"
    id: Mapped[uuid.UUID] = pk()
    code: Mapped[str]
    name: Mapped[str]
    kind: Mapped[str]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class Vendor(Base):
    __tablename__ = "vendors"
    id: Mapped[uuid.UUID] = pk()
    code: Mapped[str]
    name: Mapped[str]
    contact_email: Mapped[str | None]
    contact_phone: Mapped[str | None]
    address: Mapped[str | None]
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[uuid.UUID] = pk()
    code: Mapped[str]
    name: Mapped[str]
    contact_email: Mapped[str | None]
    contact_phone: Mapped[str | None]
    address: Mapped[str | None]
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class InventoryMovement(Base):
    __tablename__ = "inventory_movements"
    id: Mapped[uuid.UUID] = pk()
    movement_type: Mapped[str]
    status: Mapped[str] = mapped_column(default="posted")
    occurred_at: Mapped[datetime]
    external_ref: Mapped[str | None]
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vendors.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    reverses_movement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inventory_movements.id"))
    notes: Mapped[str | None]
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class InventoryMovementLine(Base):
    __tablename__ = "inventory_movement_lines"
    id: Mapped[uuid.UUID] = pk()
    movement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_movements.id"))
    line_no: Mapped[int]
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"))
    uom: Mapped[str]
    quantity_delta: Mapped[Decimal]
    unit_cost: Mapped[Decimal | None]
    # copies of the movement's (movements are never edited); read by set-based KPI passes
    occurred_at: Mapped[datetime]
    movement_type: Mapped[str]
    created_at: Mapped[datetime] = created()


class WorkOrder(Base):
    __tablename__ = "work_orders"
    id: Mapped[uuid.UUID] = pk()
    number: Mapped[str]
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"))
    planned_quantity: Mapped[Decimal]
    uom: Mapped[str]
    status: Mapped[str] = mapped_column(default="open")
    due_at: Mapped[datetime | None]
    notes: Mapped[str | None]
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class WorkOrderExecution(Base):
    __tablename__ = "work_order_executions"
    id: Mapped[uuid.UUID] = pk()
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id"))
    occurred_at: Mapped[datetime]
    consume_movement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inventory_movements.id"))
    produce_movement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inventory_movements.id"))
    external_ref: Mapped[str | None]
    notes: Mapped[str | None]
    created_at: Mapped[datetime] = created()


class SalesOrder(Base):
    __tablename__ = "sales_orders"
    id: Mapped[uuid.UUID] = pk()
    number: Mapped[str]
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(default="open")
    ordered_at: Mapped[datetime]
    notes: Mapped[str | None]
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = updated()


class SalesOrderLine(Base):
    __tablename__ = "sales_order_lines"
    id: Mapped[uuid.UUID] = pk()
    sales_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_orders.id"))
    line_no: Mapped[int]
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"))
    uom: Mapped[str]
    quantity_ordered: Mapped[Decimal]
    due_date: Mapped[date]
    promised_date: Mapped[date | None]
    unit_price: Mapped[Decimal | None]
    created_at: Mapped[datetime] = created()


class SalesOrderShipment(Base):
    __tablename__ = "sales_order_shipments"
    id: Mapped[uuid.UUID] = pk()
    sales_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_orders.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    shipped_at: Mapped[datetime]
    inventory_movement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_movements.id"))
    external_ref: Mapped[str | None]
    created_at: Mapped[datetime] = created()


class SalesOrderShipmentLine(Base):
    __tablename__ = "sales_order_shipment_lines"
    id: Mapped[uuid.UUID] = pk()
    sales_order_shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_shipments.id"))
    sales_order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_lines.id"))
    inventory_movement_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_movement_lines.id"))
    quantity: Mapped[Decimal]
    created_at: Mapped[datetime] = created()


class InventoryBalance(Base):
    """Derived on-hand per (item, location, lot); written only by the posting service."""

    __tablename__ = "inventory_balances"
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    quantity: Mapped[Decimal]
    updated_at: Mapped[datetime] = updated()


class LotGenealogyEdge(Base):
    """Derived consumed-lot -> produced-lot edge of one execution; written with work_order_lot_links."""

    __tablename__ = "lot_genealogy_edges"
    work_order_execution_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_order_executions.id"), primary_key=True
    )
    parent_lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    child_lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    consumed_quantity: Mapped[Decimal]
    produced_quantity: Mapped[Decimal]
    occurred_at: Mapped[datetime]


class LotShipment(Base):
    """Derived lot -> shipment edge (quantity of the lot in the shipment); written by the shipping service."""

    __tablename__ = "lot_shipments"
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    sales_order_shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_shipments.id"), primary_key=True)
    sales_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_orders.id"))
    sales_order_number: Mapped[str]
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    shipped_at: Mapped[datetime]
    quantity: Mapped[Decimal]


class SalesOrderLineFill(Base):
    """Derived fill state of an order line (view sales_order_line_fills_source defines it);
    refreshed by the sales service, read by fill-rate KPIs."""

    __tablename__ = "sales_order_line_fills"
    sales_order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_lines.id"), primary_key=True)
    sales_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_orders.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"))
    due_date: Mapped[date]
    quantity_ordered: Mapped[Decimal]
    filled_quantity: Mapped[Decimal]
    recorded_at: Mapped[datetime]
    last_shipment_recorded_at: Mapped[datetime | None]
    order_representative: Mapped[bool]
    order_first_due: Mapped[date]
    order_last_due: Mapped[date]
    order_complete: Mapped[bool]
    order_changed_at: Mapped[datetime]


# --- Phase 7 (frozen) --------------------------------------------------------------------------


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


# Recall completion tables (strategy, consignees, responses, ...): their own module, re-exported.
from lotline.models.recall_completion import (  # noqa: E402
    RecallConsignee,
    RecallEffectivenessCheck,
    RecallReminder,
    RecallResponse,
    RecallResponseLink,
    RecallStatusReport,
    RecallStrategy,
)

__all__ = ["RecallConsignee", "RecallEffectivenessCheck", "RecallReminder", "RecallResponse", "RecallResponseLink", "RecallStatusReport", "RecallStrategy"]
