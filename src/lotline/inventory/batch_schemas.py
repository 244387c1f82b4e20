"""Input schema of a posting batch: documents of several kinds, each the one-document schema.

A document is ``{"kind": ..., "data": {...}}`` with the same ``data`` as the one-document route or
command takes (``ReceiptIn``, ``TransferIn``, ...); an execution names its work order
(``work_order``), a shipment its sales order (``order``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ReturnIn, ScrapIn, TransferIn
from lotline.production.schemas import ExecutionIn
from lotline.sales.schemas import SalesOrderIn, ShipmentIn
from lotline.types import Input, Ref

MAX_DOCUMENTS = 10_000


class ReceiptDocument(Input):
    kind: Literal["receipt"]
    data: ReceiptIn


class TransferDocument(Input):
    kind: Literal["transfer"]
    data: TransferIn


class AdjustmentDocument(Input):
    kind: Literal["adjustment"]
    data: AdjustmentIn


class ScrapDocument(Input):
    kind: Literal["scrap"]
    data: ScrapIn


class ReturnDocument(Input):
    kind: Literal["return"]
    data: ReturnIn


class ExecutionDocument(Input):
    kind: Literal["execution"]
    work_order: Ref
    data: ExecutionIn


class SalesOrderDocument(Input):
    kind: Literal["sales_order"]
    data: SalesOrderIn


class ShipmentDocument(Input):
    kind: Literal["shipment"]
    order: Ref
    data: ShipmentIn


BatchDocument = Annotated[
    ReceiptDocument
    | TransferDocument
    | AdjustmentDocument
    | ScrapDocument
    | ReturnDocument
    | ExecutionDocument
    | SalesOrderDocument
    | ShipmentDocument,
    Field(discriminator="kind"),
]


class BatchIn(Input):
    documents: Annotated[list[BatchDocument], Field(min_length=1, max_length=MAX_DOCUMENTS)]
    atomic: bool = True
