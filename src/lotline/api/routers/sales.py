"""Sales order endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from lotline.api import pagination
from lotline.api.deps import ReadSession, RetryingRoute, WriteSession, require
from lotline.api.pagination import PAGED, CursorQ, LimitQ, Page
from lotline.api.schemas import SalesOrderOut, SalesOrderRow, ShipmentOut
from lotline.inventory import queries
from lotline.sales import service
from lotline.sales.schemas import SalesOrderIn, ShipmentIn
from lotline.serialize import to_jsonable

router = APIRouter(tags=["sales"], route_class=RetryingRoute)  # postings retry conflicts


def _order_out(session, order) -> dict:
    lines = [
        {
            "line_no": x["line"].line_no,
            "id": x["line"].id,
            "sku": x["sku"],
            "quantity_ordered": x["line"].quantity_ordered,
            "shipped": x["shipped"],
            "open": x["open"],
            "uom": x["line"].uom,
            "due_date": x["line"].due_date,
        }
        for x in service.order_lines(session, order)
    ]
    return to_jsonable(
        {"id": order.id, "number": order.number, "customer_id": order.customer_id, "status": order.status, "ordered_at": order.ordered_at, "lines": lines}
    )


@router.post("/sales-orders", status_code=status.HTTP_201_CREATED, dependencies=[require("sales.write")],
             response_model=SalesOrderOut)
def create_order(data: SalesOrderIn, session: WriteSession) -> dict:
    return _order_out(session, service.create_order(session, data))


@router.get("/sales-orders", dependencies=[require("read")], response_model=Page[SalesOrderRow], responses=PAGED)
def list_orders(request: Request, response: Response, session: ReadSession,
                limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    """Sales orders, newest first."""
    page = service.orders_page(session, limit=limit, after=pagination.decode("sales-orders", cursor))
    items = [
        to_jsonable({"id": o.id, "number": o.number, "customer": code, "status": o.status, "ordered_at": o.ordered_at})
        for o, code in page.rows
    ]
    return pagination.respond(request, response, "sales-orders", items, page)


@router.get("/sales-orders/{ref}", dependencies=[require("read")], response_model=SalesOrderOut)
def get_order(ref: str, session: ReadSession) -> dict:
    return _order_out(session, service.find_order(session, ref))


@router.post("/sales-orders/{ref}/shipments", status_code=status.HTTP_201_CREATED, dependencies=[require("sales.write")],
             response_model=ShipmentOut, responses={200: {"description": "Replayed", "model": ShipmentOut}})
def ship(ref: str, data: ShipmentIn, session: WriteSession, response: Response) -> dict:
    """Ship order lines (FEFO unless lots are named); refuses over-shipping and unreleased lots."""
    shipped = service.ship(session, ref, data)
    if shipped.replayed:
        response.status_code = status.HTTP_200_OK
    return to_jsonable(
        {
            "sales_order_shipment_id": shipped.shipment.id,
            "replayed": shipped.replayed,
            "movement": queries.movement_detail(session, shipped.posted.movement.id),
        }
    )
