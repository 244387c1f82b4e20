"""Mappings of the derived tables (migrations 0016-0020): each written in the same transaction as
the records it derives from, and proved equal to them by the generator's checker."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from lotline.models.base import Base, updated


class InventoryBalance(Base):
    """Derived on-hand per (item, location, lot); written only by the posting service."""

    __tablename__ = "inventory_balances"
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    quantity: Mapped[Decimal]
    # latest ledger time of this key; NULL when unknown (bulk-loaded rows) — see inventory/balances.py
    last_occurred_at: Mapped[datetime | None]
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


class KpiScrapLot(Base):
    """Derived copy of one scrap line's lot row for KPI expiry write-offs (migration 0034); written
    only by the database's triggers, proved equal to its view by the checker (check_17)."""

    __tablename__ = "kpi_scrap_lots"
    inventory_movement_lot_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    lot_id: Mapped[uuid.UUID]
    item_id: Mapped[uuid.UUID]
    location_id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    quantity: Mapped[Decimal]
    expires_at: Mapped[datetime | None]
