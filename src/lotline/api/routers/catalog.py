"""Master data endpoints: /items, /locations, /vendors, /customers."""

from __future__ import annotations

from fastapi import APIRouter, status

from lotline.api.deps import ReadSession, WriteSession, require
from lotline.catalog import service
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.models import Customer, Item, Location, Vendor
from lotline.serialize import to_jsonable

router = APIRouter(tags=["master data"])



def _out(record) -> dict:
    return to_jsonable(service.as_row(record))


@router.post("/items", status_code=status.HTTP_201_CREATED, dependencies=[require("master_data.write")])
def create_item(data: ItemIn, session: WriteSession) -> dict:
    return _out(service.create_item(session, data))


@router.get("/items", dependencies=[require("read")])
def list_items(session: ReadSession) -> list[dict]:
    return [_out(x) for x in service.list_all(session, Item)]


@router.get("/items/{ref}", dependencies=[require("read")])
def get_item(ref: str, session: ReadSession) -> dict:
    return _out(service.resolve(session, Item, ref))


@router.post("/locations", status_code=status.HTTP_201_CREATED, dependencies=[require("master_data.write")])
def create_location(data: LocationIn, session: WriteSession) -> dict:
    return _out(service.create_location(session, data))


@router.get("/locations", dependencies=[require("read")])
def list_locations(session: ReadSession) -> list[dict]:
    return [_out(x) for x in service.list_all(session, Location)]


@router.post("/vendors", status_code=status.HTTP_201_CREATED, dependencies=[require("master_data.write")])
def create_vendor(data: PartyIn, session: WriteSession) -> dict:
    return _out(service.create_vendor(session, data))


@router.get("/vendors", dependencies=[require("read")])
def list_vendors(session: ReadSession) -> list[dict]:
    return [_out(x) for x in service.list_all(session, Vendor)]


@router.post("/customers", status_code=status.HTTP_201_CREATED, dependencies=[require("master_data.write")])
def create_customer(data: PartyIn, session: WriteSession) -> dict:
    return _out(service.create_customer(session, data))


@router.get("/customers", dependencies=[require("read")])
def list_customers(session: ReadSession) -> list[dict]:
    return [_out(x) for x in service.list_all(session, Customer)]
