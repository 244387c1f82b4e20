"""``lotline so``: sales orders and shipments."""

from __future__ import annotations

from datetime import date, datetime

import typer

from lotline.cli.common import JsonOpt, console, emit, emit_movement_lines, print_json, read_input, split_spec
from lotline.db import read_snapshot, retry, transaction
from lotline.errors import InvalidInput
from lotline.inventory import queries
from lotline.sales import service
from lotline.sales.schemas import SalesOrderIn, ShipmentIn

app = typer.Typer(help="Sales orders: create, ship, show, list.", no_args_is_help=True)


def _order_line(spec: str) -> dict:
    parts = split_spec(spec, 3, 3, "SKU:QTY:DUE-DATE (e.g. BREAD:50:2026-12-01)")
    try:
        due = date.fromisoformat(parts[2])
    except ValueError:
        raise InvalidInput(f"{parts[2]!r} is not a date (YYYY-MM-DD)") from None
    return {"item": parts[0], "quantity": parts[1], "due_date": due}


@app.command("create")
def create(
    number: str,
    customer: str = typer.Option(None, help="Customer code."),
    line: list[str] = typer.Option(None, help="SKU:QTY:DUE-DATE, repeatable."),
    input_file: str = typer.Option(None, "--input", help="JSON payload file ('-' for stdin)."),
    as_json: bool = JsonOpt,
) -> None:
    """Create a sales order."""
    payload = read_input(input_file)
    if payload is None:
        if not customer or not line:
            raise InvalidInput("give --customer and at least one --line SKU:QTY:DUE-DATE (or --input FILE)")
        payload = {"number": number, "customer": customer, "lines": [_order_line(x) for x in line]}
    data = SalesOrderIn.model_validate(payload)
    with transaction() as s:
        order = service.create_order(s, data)
        order_id = order.id
    _show(str(order_id), as_json)


def _ship_line(spec: str) -> dict:
    parts = split_spec(spec, 3, 4, "LINE_NO:LOCATION:QTY[:LOTCODE]")
    try:
        line_no = int(parts[0])
    except ValueError:
        raise InvalidInput(f"{parts[0]!r} is not an order line number") from None
    out = {"line_no": line_no, "location": parts[1], "quantity": parts[2]}
    if len(parts) == 4:
        out["lots"] = [{"lot": parts[3], "quantity": parts[2]}]
    return out


@app.command("ship")
def ship(
    number: str,
    line: list[str] = typer.Option(None, help="LINE_NO:LOCATION:QTY[:LOTCODE], repeatable; no lot = FEFO."),
    at: datetime = typer.Option(None, "--at", help="When it shipped (ISO 8601); default now."),
    ref: str = typer.Option(None, "--ref", help="External reference (idempotent)."),
    input_file: str = typer.Option(None, "--input", help="JSON payload file ('-' for stdin)."),
    as_json: bool = JsonOpt,
) -> None:
    """Ship order lines; lots are allocated first-expiry-first-out unless named."""
    payload = read_input(input_file)
    if payload is None:
        if not line:
            raise InvalidInput("give at least one --line LINE_NO:LOCATION:QTY (or --input FILE)")
        payload = {"lines": [_ship_line(x) for x in line]}
        if at:
            payload["shipped_at"] = at
        if ref:
            payload["external_ref"] = ref
    data = ShipmentIn.model_validate(payload)
    def post(s):
        shipped = service.ship(s, number, data)
        return shipped, shipped.shipment.id, queries.movement_detail(s, shipped.posted.movement.id)

    shipped, shipment_id, detail = retry.run_transaction(post)
    if as_json:
        print_json({"sales_order_shipment_id": shipment_id, "replayed": shipped.replayed, "movement": detail})
        return
    console.print(f"[green]shipped[/] {number}: shipment {shipment_id}" + (" (replayed)" if shipped.replayed else ""))
    emit_movement_lines(detail)


def _show(ref: str, as_json: bool) -> None:
    with read_snapshot() as s:
        order = service.find_order(s, ref)
        lines = [
            {
                "line_no": x["line"].line_no,
                "sku": x["sku"],
                "ordered": x["line"].quantity_ordered,
                "shipped": x["shipped"],
                "open": x["open"],
                "uom": x["line"].uom,
                "due_date": x["line"].due_date,
            }
            for x in service.order_lines(s, order)
        ]
        head = {"id": order.id, "number": order.number, "status": order.status, "ordered_at": order.ordered_at}
    if as_json:
        print_json({**head, "lines": lines})
        return
    console.print(f"sales order {head['number']} ({head['status']})")
    emit(lines, ["line_no", "sku", "ordered", "shipped", "open", "uom", "due_date"], as_json=False)


@app.command("show")
def show(number: str, as_json: bool = JsonOpt) -> None:
    """One order with shipped and open quantities per line."""
    _show(number, as_json)


@app.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """Latest sales orders."""
    with read_snapshot() as s:
        rows = [
            {"id": o.id, "number": o.number, "customer": code, "status": o.status, "ordered_at": o.ordered_at}
            for o, code in service.list_orders(s)
        ]
    emit(rows, ["number", "customer", "status", "ordered_at"], as_json=as_json, title="Sales orders")
