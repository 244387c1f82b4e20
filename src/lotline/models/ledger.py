"""Mappings of the ledger core (migration 0001): master data, movements and their lines, work orders,
sales orders and shipments. Ours to design; the DDL in db/migrations/sql/core/0001 is the truth."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from lotline.models.base import Base, created, pk, updated


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
