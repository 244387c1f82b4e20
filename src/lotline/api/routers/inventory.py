"""Stock endpoints: receipts, transfers, adjustments, scrap, returns, movements, lots, on-hand."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, Query, Request, Response, status

from lotline.api import pagination
from lotline.api.deps import ReadSession, RetryingRoute, WriteSession, require
from lotline.api.pagination import PAGED, CursorQ, LimitQ, Page
from lotline.api.schemas import (
    BatchOut,
    LotDetail,
    LotHistoryRow,
    LotOut,
    LotStatusEvent,
    MovementOut,
    MovementSummary,
    PostedMovement,
    StockRow,
)
from lotline.audit import service as audit
from lotline.catalog import service as catalog
from lotline.inventory import batch, queries
from lotline.inventory import service as inventory
from lotline.inventory.batch_schemas import BatchIn
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ReturnIn, ReversalIn, ScrapIn, TransferIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.models import Item, Location
from lotline.serialize import to_jsonable

router = APIRouter(tags=["inventory"], route_class=RetryingRoute)  # postings retry conflicts
# an external reference posted again answers the first posting with 200 (idempotent replay)
REPLAYED: dict[int | str, dict] = {200: {"description": "Replayed: the movement first posted with this external_ref",
                                         "model": PostedMovement}}
MovementType = Literal[
    "receipt", "transfer", "adjustment", "production_consume", "production_produce", "shipment", "scrap", "return"
]


def _posted(session, posted, response: Response) -> dict:
    # A replayed external reference returns the original movement with 200 instead of 201.
    if posted.replayed:
        response.status_code = status.HTTP_200_OK
    body = queries.movement_detail(session, posted.movement.id)
    body["replayed"] = posted.replayed
    return to_jsonable(body)


@router.post("/movements/batch", status_code=status.HTTP_201_CREATED, dependencies=[require("postings.batch")],
             response_model=BatchOut)
def post_batch(data: BatchIn, session: WriteSession) -> dict:
    """Many postings in one transaction: receipts, transfers, adjustments, scraps, returns, executions,
    sales orders and shipments, each ``{"kind": ..., "data": <the one-document body>}`` (an execution
    names its ``work_order``, a shipment its ``order``). Atomic by default: a refused document refuses
    the batch with its error, naming the document; ``"atomic": false`` posts the others and lists the
    refused ones."""
    result = batch.post_batch(session, data)
    return to_jsonable({"counts": result.counts, "results": [asdict(r) for r in result.results]})


@router.post("/receipts", status_code=status.HTTP_201_CREATED, dependencies=[require("stock.post")],
             response_model=PostedMovement, responses=REPLAYED)
def post_receipt(data: ReceiptIn, session: WriteSession, response: Response) -> dict:
    """Receive goods from a vendor into new lots."""
    return _posted(session, inventory.receive(session, data), response)


@router.post("/transfers", status_code=status.HTTP_201_CREATED, dependencies=[require("stock.post")],
             response_model=PostedMovement, responses=REPLAYED)
def post_transfer(data: TransferIn, session: WriteSession, response: Response) -> dict:
    """Move stock between locations; lots keep their identity (FEFO when lots are omitted)."""
    return _posted(session, inventory.transfer(session, data), response)


@router.post("/adjustments", status_code=status.HTTP_201_CREATED, dependencies=[require("stock.post")],
             response_model=PostedMovement, responses=REPLAYED)
def post_adjustment(data: AdjustmentIn, session: WriteSession, response: Response) -> dict:
    """Count corrections (signed) in existing lots."""
    return _posted(session, inventory.adjust(session, data), response)


@router.post("/scraps", status_code=status.HTTP_201_CREATED, dependencies=[require("stock.post")],
             response_model=PostedMovement, responses=REPLAYED)
def post_scrap(data: ScrapIn, session: WriteSession, response: Response) -> dict:
    """Write stock off."""
    return _posted(session, inventory.scrap(session, data), response)


@router.post("/returns", status_code=status.HTTP_201_CREATED, dependencies=[require("stock.post")],
             response_model=PostedMovement, responses=REPLAYED)
def post_return(data: ReturnIn, session: WriteSession, response: Response) -> dict:
    """Goods back from a customer into their lots."""
    return _posted(session, inventory.return_goods(session, data), response)


@router.get("/movements", dependencies=[require("read")], response_model=Page[MovementSummary], responses=PAGED)
def list_movements(
    request: Request,
    response: Response,
    session: ReadSession,
    movement_type: MovementType | None = None,
    limit: LimitQ = pagination.DEFAULT_LIMIT,
    cursor: CursorQ = None,
) -> dict:
    """Movements, newest first."""
    page = queries.movements_page(session, movement_type=movement_type, limit=limit,
                                  after=pagination.decode("movements", cursor))
    return pagination.respond(request, response, "movements", to_jsonable(page.rows), page)


@router.get("/movements/{movement_id:uuid}", dependencies=[require("read")], response_model=MovementOut)
def get_movement(movement_id: uuid.UUID, session: ReadSession) -> dict:
    return to_jsonable(queries.movement_detail(session, movement_id))


@router.post("/movements/{movement_id:uuid}/reverse", status_code=status.HTTP_201_CREATED, dependencies=[require("stock.reverse")],
             response_model=PostedMovement, responses=REPLAYED)
def reverse_movement(movement_id: uuid.UUID, data: ReversalIn, session: WriteSession, response: Response) -> dict:
    """Post the exact opposite of a movement and mark it reversed."""
    return _posted(session, inventory.reverse(session, movement_id, data), response)


@router.get("/stock", dependencies=[require("read")], response_model=Page[StockRow], responses=PAGED)
def on_hand(
    request: Request,
    response: Response,
    session: ReadSession,
    item: str | None = Query(None, max_length=200, description="SKU or id"),
    location: str | None = Query(None, max_length=200, description="Location code or id"),
    lot: str | None = Query(None, max_length=200, description="Lot code (with item when codes repeat) or id"),
    limit: LimitQ = pagination.DEFAULT_LIMIT,
    cursor: CursorQ = None,
) -> dict:
    """On-hand by item, lot and location (by SKU, lot code, location code)."""
    item_id = catalog.resolve(session, Item, item).id if item else None
    location_id = catalog.resolve(session, Location, location).id if location else None
    lot_id = lots_service.find_lot(session, lot, item_ref=item).id if lot else None
    page = lots_service.on_hand_page(session, item_id=item_id, location_id=location_id, lot_id=lot_id, limit=limit,
                                     after=pagination.decode("stock", cursor))
    return pagination.respond(request, response, "stock", to_jsonable(page.rows), page)


def _lot_out(lot, sku: str) -> dict:
    return to_jsonable(lots_service.lot_row(lot, sku))


@router.get("/lots", dependencies=[require("read")], response_model=Page[LotOut], responses=PAGED)
def list_lots(
    request: Request,
    response: Response,
    session: ReadSession,
    item: str | None = Query(None, max_length=200),
    status_: Literal["active", "quarantine", "blocked", "consumed", "expired"] | None = Query(None, alias="status"),
    limit: LimitQ = pagination.DEFAULT_LIMIT,
    cursor: CursorQ = None,
) -> dict:
    """Lots by SKU and lot code."""
    item_id = catalog.resolve(session, Item, item).id if item else None
    page = lots_service.lots_page(session, item_id=item_id, status=status_, limit=limit,
                                  after=pagination.decode("lots", cursor))
    return pagination.respond(request, response, "lots", [_lot_out(lot, sku) for lot, sku in page.rows], page)


@router.get("/lots/{ref}", dependencies=[require("read")], response_model=LotDetail)
def get_lot(ref: str, session: ReadSession, item: str | None = Query(None, max_length=200)) -> dict:
    lot = lots_service.find_lot(session, ref, item_ref=item)
    body = _lot_out(lot, session.get_one(Item, lot.item_id).sku)
    body["on_hand"] = to_jsonable(lots_service.on_hand(session, lot_id=lot.id))
    return body


@router.get("/lots/{ref}/history", dependencies=[require("read")], response_model=Page[LotHistoryRow],
            responses=PAGED)
def lot_history(request: Request, response: Response, ref: str, session: ReadSession,
                item: str | None = Query(None, max_length=200), limit: LimitQ = pagination.DEFAULT_LIMIT,
                cursor: CursorQ = None) -> dict:
    """Every movement of the lot in time order, with its running total."""
    after = pagination.decode("lot-history", cursor)
    lot = lots_service.find_lot(session, ref, item_ref=item)
    page = queries.lot_history_page(session, lot.id, after=after, limit=limit)
    return pagination.respond(request, response, "lot-history", to_jsonable(page.rows), page)


@router.get("/lots/{ref}/status-history", dependencies=[require("read")],
            response_model=list[LotStatusEvent])
def lot_status_history(ref: str, session: ReadSession, item: str | None = Query(None, max_length=200)) -> list[dict]:
    """The lot's status changes from the audit trail: when, who, from, to, why."""
    return to_jsonable(audit.lot_status_history(session, lots_service.find_lot(session, ref, item_ref=item).id))


@router.post("/lots/{ref}/status", dependencies=[require("lot.status")], response_model=LotOut)
def change_lot_status(
    ref: str, data: LotStatusChange, session: WriteSession, item: str | None = Query(None, max_length=200)
) -> dict:
    """Quarantine, block, release (active), expire or consume a lot."""
    lot = lots_service.change_status(session, lots_service.find_lot(session, ref, item_ref=item), data)
    return _lot_out(lot, session.get_one(Item, lot.item_id).sku)
