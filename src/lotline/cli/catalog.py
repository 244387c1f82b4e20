"""Master data commands: ``lotline item|location|vendor|customer add|list``."""

from __future__ import annotations

from decimal import Decimal

import typer

from lotline.catalog import service
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.cli.common import JsonOpt, console, emit
from lotline.db import read_snapshot, transaction
from lotline.models import Customer, Item, Location, Vendor

item_app = typer.Typer(help="Items (SKUs).", no_args_is_help=True)
location_app = typer.Typer(help="Locations (storage, quarantine, scrap, ...).", no_args_is_help=True)
vendor_app = typer.Typer(help="Vendors.", no_args_is_help=True)
customer_app = typer.Typer(help="Customers.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(item_app, name="item")
    app.add_typer(location_app, name="location")
    app.add_typer(vendor_app, name="vendor")
    app.add_typer(customer_app, name="customer")


# Table columns: every field but the id (which --json still prints).
ITEM_COLUMNS = service.FIELDS[Item][1:]
LOCATION_COLUMNS = service.FIELDS[Location][1:]
PARTY_COLUMNS = service.FIELDS[Vendor][1:]


@item_app.command("add")
def item_add(
    sku: str,
    name: str = typer.Option(..., help="Product description."),
    uom: str = typer.Option("ea", help="Stocking unit of measure."),
    untracked: bool = typer.Option(False, "--untracked", help="Not lot-tracked (no lot rows)."),
    shelf_life_days: int | None = typer.Option(None, help="Default expiry = manufactured/received + this."),
    standard_cost: Decimal = typer.Option(Decimal(0), help="Cost per unit, for inventory value."),
    as_json: bool = JsonOpt,
) -> None:
    """Add an item."""
    data = ItemIn(
        sku=sku, name=name, uom=uom, lot_tracked=not untracked, shelf_life_days=shelf_life_days, standard_cost=standard_cost
    )
    with transaction() as s:
        row = service.as_row(service.create_item(s, data))
    emit([row], ITEM_COLUMNS, as_json=as_json)


@item_app.command("list")
def item_list(as_json: bool = JsonOpt) -> None:
    """List items."""
    with read_snapshot() as s:
        rows = [service.as_row(x) for x in service.list_all(s, Item)]
    emit(rows, ITEM_COLUMNS, as_json=as_json, title="Items")


@location_app.command("add")
def location_add(
    code: str,
    name: str = typer.Option(None, help="Defaults to the code."),
    kind: str = typer.Option("storage", help="storage | receiving | quarantine | scrap | production | shipping"),
    as_json: bool = JsonOpt,
) -> None:
    """Add a location."""
    data = LocationIn(code=code, name=name or code, kind=kind)
    with transaction() as s:
        row = service.as_row(service.create_location(s, data))
    emit([row], LOCATION_COLUMNS, as_json=as_json)


@location_app.command("list")
def location_list(as_json: bool = JsonOpt) -> None:
    """List locations."""
    with read_snapshot() as s:
        rows = [service.as_row(x) for x in service.list_all(s, Location)]
    emit(rows, LOCATION_COLUMNS, as_json=as_json, title="Locations")


def _party_commands(app: typer.Typer, model, create, label: str) -> None:
    @app.command("add")
    def add(
        code: str,
        name: str = typer.Option(..., help=f"{label} name."),
        email: str | None = typer.Option(None, help="Contact email (recall notices go here)."),
        phone: str | None = typer.Option(None, help="Contact phone."),
        address: str | None = typer.Option(None, help="Postal address."),
        as_json: bool = JsonOpt,
    ) -> None:
        data = PartyIn(code=code, name=name, contact_email=email, contact_phone=phone, address=address)
        with transaction() as s:
            row = service.as_row(create(s, data))
        emit([row], PARTY_COLUMNS, as_json=as_json)

    add.__doc__ = f"Add a {label.lower()}."

    @app.command("list")
    def list_(as_json: bool = JsonOpt) -> None:
        with read_snapshot() as s:
            rows = [service.as_row(x) for x in service.list_all(s, model)]
        emit(rows, PARTY_COLUMNS, as_json=as_json, title=f"{label}s")

    list_.__doc__ = f"List {label.lower()}s."


_party_commands(vendor_app, Vendor, service.create_vendor, "Vendor")
_party_commands(customer_app, Customer, service.create_customer, "Customer")

__all__ = ["register", "console"]
