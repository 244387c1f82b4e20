"""SQLAlchemy mappings of every table: a mirror of the DDL in db/migrations/sql, no behaviour.

The migrations are the source of truth for the schema; these classes only let services read and
write rows. One file per migration group, all re-exported here (``from lotline.models import Lot``):

- ``ledger.py``  the ledger core (0001): items, locations, vendors, customers, movements, work
  orders, sales orders and shipments;
- ``derived.py`` the derived tables (0016-0020): balances, genealogy edges, lot shipments, fill state;
- ``phase7.py``  the 14 frozen Phase 7 tables (0002-0015);
- ``recall_completion.py`` strategy, consignees, responses, reminders, checks, status reports (0028);
- ``base.py``    the declarative base and column helpers. Timestamps the DDL leaves without a
  default (Phase 7 ``updated_at``) are set by ``default``/``onupdate`` so services maintain them.
"""

from __future__ import annotations

from lotline.models.base import (
    Base,
    Qty,
    created,
    new_id,
    pk,
    updated,
)
from lotline.models.derived import (
    InventoryBalance,
    LotGenealogyEdge,
    LotShipment,
    SalesOrderLineFill,
)
from lotline.models.ledger import (
    Customer,
    InventoryMovement,
    InventoryMovementLine,
    Item,
    Location,
    SalesOrder,
    SalesOrderLine,
    SalesOrderShipment,
    SalesOrderShipmentLine,
    Vendor,
    WorkOrder,
    WorkOrderExecution,
)
from lotline.models.phase7 import (
    InventoryMovementLot,
    KpiRollupInput,
    KpiRun,
    KpiSnapshot,
    Lot,
    RecallAction,
    RecallCase,
    RecallCaseTarget,
    RecallCommunication,
    RecallImpactedLot,
    RecallImpactedShipment,
    RecallTraceRun,
    ShipmentLotLink,
    WorkOrderLotLink,
)
from lotline.models.recall_completion import (
    RecallConsignee,
    RecallEffectivenessCheck,
    RecallReminder,
    RecallResponse,
    RecallResponseLink,
    RecallStatusReport,
    RecallStrategy,
)

__all__ = [
    "RecallConsignee",
    "RecallEffectivenessCheck",
    "RecallReminder",
    "RecallResponse",
    "RecallResponseLink",
    "RecallStatusReport",
    "RecallStrategy",
    "Base",
    "Qty",
    "new_id",
    "pk",
    "created",
    "updated",
    "Item",
    "Location",
    "Vendor",
    "Customer",
    "InventoryMovement",
    "InventoryMovementLine",
    "WorkOrder",
    "WorkOrderExecution",
    "SalesOrder",
    "SalesOrderLine",
    "SalesOrderShipment",
    "SalesOrderShipmentLine",
    "InventoryBalance",
    "LotGenealogyEdge",
    "LotShipment",
    "SalesOrderLineFill",
    "Lot",
    "InventoryMovementLot",
    "WorkOrderLotLink",
    "ShipmentLotLink",
    "RecallCase",
    "RecallCaseTarget",
    "RecallTraceRun",
    "RecallImpactedShipment",
    "RecallImpactedLot",
    "RecallAction",
    "RecallCommunication",
    "KpiRun",
    "KpiSnapshot",
    "KpiRollupInput",
]
