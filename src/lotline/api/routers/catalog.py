"""Master data endpoints: /items, /locations, /vendors, /customers (listings paginated)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from lotline.api import pagination
from lotline.api.deps import ReadSession, WriteSession, require
from lotline.api.pagination import PAGED, CursorQ, LimitQ, Page
from lotline.api.schemas import ItemOut, LocationOut, PartyOut
from lotline.catalog import service
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.models import Customer, Item, Location, Vendor
from lotline.serialize import to_jsonable

router = APIRouter(tags=["master data"])


def _out(record) -> dict:
    return to_jsonable(service.as_row(record))


def _listing(request: Request, response: Response, session, model, listing: str, limit: int, cursor: str | None):
    page = service.list_page(session, model, after=pagination.decode(listing, cursor), limit=limit)
    return pagination.respond(request, response, listing, [_out(r[0]) for r in page.rows], page)


@router.post("/items", status_code=status.HTTP_201_CREATED, dependencies=[require("master_data.write")], response_model=ItemOut)
def create_item(data: ItemIn, session: WriteSession) -> dict:
    return _out(service.create_item(session, data))


@router.get("/items", dependencies=[require("read")], responses=PAGED, response_model=Page[ItemOut])
def list_items(request: Request, response: Response, session: ReadSession, limit: LimitQ = pagination.DEFAULT_LIMIT,
               cursor: CursorQ = None) -> dict:
    return _listing(request, response, session, Item, "items", limit, cursor)


@router.get("/items/{ref}", dependencies=[require("read")], response_model=ItemOut)
def get_item(ref: str, session: ReadSession) -> dict:
    return _out(service.resolve(session, Item, ref))


@router.post("/locations", status_code=status.HTTP_201_CREATED, dependencies=[require("master_data.write")], response_model=LocationOut)
def create_location(data: LocationIn, session: WriteSession) -> dict:
    return _out(service.create_location(session, data))


@router.get("/locations", dependencies=[require("read")], responses=PAGED, response_model=Page[LocationOut])
def list_locations(request: Request, response: Response, session: ReadSession,
                   limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    return _listing(request, response, session, Location, "locations", limit, cursor)


@router.post("/vendors", status_code=status.HTTP_201_CREATED, dependencies=[require("master_data.write")], response_model=PartyOut)
def create_vendor(data: PartyIn, session: WriteSession) -> dict:
    return _out(service.create_vendor(session, data))


@router.get("/vendors", dependencies=[require("read")], responses=PAGED, response_model=Page[PartyOut])
def list_vendors(request: Request, response: Response, session: ReadSession, limit: LimitQ = pagination.DEFAULT_LIMIT,
                 cursor: CursorQ = None) -> dict:
    return _listing(request, response, session, Vendor, "vendors", limit, cursor)


@router.post("/customers", status_code=status.HTTP_201_CREATED, dependencies=[require("master_data.write")], response_model=PartyOut)
def create_customer(data: PartyIn, session: WriteSession) -> dict:
    return _out(service.create_customer(session, data))


@router.get("/customers", dependencies=[require("read")], responses=PAGED, response_model=Page[PartyOut])
def list_customers(request: Request, response: Response, session: ReadSession,
                   limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    return _listing(request, response, session, Customer, "customers", limit, cursor)
