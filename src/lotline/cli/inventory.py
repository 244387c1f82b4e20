"""Stock commands: receive, transfer, adjust, scrap, return, on-hand, lots, movements.

Single-line postings take flags; multi-line ones take ``--input FILE`` (JSON in the API's schema).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import typer

from lotline.audit import service as audit
from lotline.catalog import service as catalog
from lotline.cli.common import JsonOpt, console, emit, emit_movement_lines, lot_specs, print_json, read_input
from lotline.cli.signing import PasswordStdinOpt, SignOpt, signature
from lotline.db import read_snapshot, retry, transaction
from lotline.errors import InvalidInput
from lotline.inventory import queries
from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ReturnIn, ReversalIn, ScrapIn, TransferIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatus, LotStatusChange
from lotline.models import Item, Location
from lotline.types import utcnow
from lotline.vocab import MovementType

lot_app = typer.Typer(help="Lots: list, show, change status, expire.", no_args_is_help=True)
movement_app = typer.Typer(help="Posted movements: list, show, reverse.", no_args_is_help=True)

LotOpt = typer.Option(None, "--lot", help="LOTCODE:QUANTITY, repeatable; omit to allocate first-expiry-first-out.")
WhenOpt = typer.Option(None, "--at", help="When it happened (ISO 8601); default now.")
RefOpt = typer.Option(None, "--ref", help="External reference; posting it twice returns the first posting.")
InputOpt = typer.Option(None, "--input", help="JSON payload file ('-' for stdin) for multi-line postings.")


def register(app: typer.Typer) -> None:
    app.command("receive")(receive)
    app.command("transfer")(transfer)
    app.command("adjust")(adjust)
    app.command("scrap")(scrap)
    app.command("return")(return_)
    app.command("stock")(stock)
    app.add_typer(lot_app, name="lot")
    app.add_typer(movement_app, name="movement")


def _detail(session, posted) -> dict:
    """The posted movement as people read it, in the posting's own transaction."""
    detail = queries.movement_detail(session, posted.movement.id)
    if posted.replayed:
        detail["replayed"] = True
    return detail


def _show_posted(detail: dict, as_json: bool) -> None:
    replayed = detail.get("replayed", False)
    if as_json:
        print_json(detail)
        return
    note = " [yellow](already posted under this reference: nothing new written)[/]" if replayed else ""
    console.print(f"[green]posted[/] {detail['movement_type']} {detail['id']}{note}")
    emit_movement_lines(detail)


def _require(**flags) -> None:
    missing = [name for name, value in flags.items() if value is None]
    if missing:
        names = ", ".join("--" + m.replace("_", "-") for m in missing)
        raise InvalidInput(f"missing {names} (or give the whole posting with --input FILE)")


def _post(service_fn, schema, payload: dict, as_json: bool) -> None:
    """Validate a payload, post it in one transaction, print the movement."""
    data = schema.model_validate(payload)
    # retried whole on a deadlock or serialization failure (lotline.db.retry)
    detail = retry.run_transaction(lambda s: _detail(s, service_fn(s, data)))
    _show_posted(detail, as_json)


def _one_lot_line(item: str, location: str, quantity: str, lot: str | None) -> dict:
    line: dict[str, object] = {"item": item, "location": location, "quantity": quantity}
    if lot:
        line["lots"] = [{"lot": lot, "quantity": quantity}]
    return line


def _present(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def receive(
    vendor: str = typer.Option(None, help="Vendor code."),
    item: str = typer.Option(None, help="Item SKU."),
    location: str = typer.Option(None, help="Receiving location code."),
    quantity: str = typer.Option(None, "--qty", help="Quantity received."),
    lot: str = typer.Option(None, help="Lot code to create (lot-tracked items)."),
    vendor_lot: str = typer.Option(None, help="The vendor's own lot code."),
    expires: datetime = typer.Option(None, help="Expiry; default received + shelf life."),
    unit_cost: str = typer.Option(None, help="Cost per unit."),
    at: datetime = WhenOpt,
    ref: str = RefOpt,
    input_file: str = InputOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Receive goods from a vendor into a new lot."""
    payload = read_input(input_file)
    if payload is None:
        _require(vendor=vendor, item=item, location=location, qty=quantity)
        line = _present({"item": item, "location": location, "quantity": quantity, "unit_cost": unit_cost})
        if lot:
            line["lots"] = [_present({"lot_code": lot, "quantity": quantity, "vendor_lot_code": vendor_lot, "expires_at": expires})]
        payload = _present({"vendor": vendor, "occurred_at": at, "external_ref": ref, "lines": [line]})
    _post(inventory.receive, ReceiptIn, payload, as_json)


def transfer(
    item: str = typer.Option(None, help="Item SKU."),
    from_location: str = typer.Option(None, "--from", help="Source location code."),
    to_location: str = typer.Option(None, "--to", help="Destination location code."),
    quantity: str = typer.Option(None, "--qty", help="Quantity to move."),
    lots: list[str] = LotOpt,
    at: datetime = WhenOpt,
    ref: str = RefOpt,
    input_file: str = InputOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Move stock between locations (lots keep their identity)."""
    payload = read_input(input_file)
    if payload is None:
        _require(item=item, from_=from_location, to=to_location, qty=quantity)
        payload = _present(
            {
                "item": item,
                "from_location": from_location,
                "to_location": to_location,
                "quantity": quantity,
                "lots": lot_specs(lots),
                "occurred_at": at,
                "external_ref": ref,
            }
        )
    _post(inventory.transfer, TransferIn, payload, as_json)


def adjust(
    item: str = typer.Option(None, help="Item SKU."),
    location: str = typer.Option(None, help="Location code."),
    quantity: str = typer.Option(None, "--qty", help="Signed correction, e.g. -2 or 5."),
    lot: str = typer.Option(None, help="Lot code (lot-tracked items)."),
    reason: str = typer.Option(None, help="Why (required)."),
    at: datetime = WhenOpt,
    ref: str = RefOpt,
    input_file: str = InputOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Correct a count (signed quantity) in an existing lot."""
    payload = read_input(input_file)
    if payload is None:
        _require(item=item, location=location, qty=quantity, reason=reason)
        line = _one_lot_line(item, location, quantity, lot)
        payload = _present({"reason": reason, "lines": [line], "occurred_at": at, "external_ref": ref})
    _post(inventory.adjust, AdjustmentIn, payload, as_json)


def scrap(
    item: str = typer.Option(None, help="Item SKU."),
    location: str = typer.Option(None, help="Location code."),
    quantity: str = typer.Option(None, "--qty", help="Quantity scrapped."),
    lots: list[str] = typer.Option(None, "--lot", help="LOTCODE:QUANTITY, repeatable (required for lot-tracked items)."),
    at: datetime = WhenOpt,
    ref: str = RefOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Write stock off (any lot status)."""
    _require(item=item, location=location, qty=quantity)
    payload = _present(
        {"item": item, "location": location, "quantity": quantity, "lots": lot_specs(lots), "occurred_at": at, "external_ref": ref}
    )
    _post(inventory.scrap, ScrapIn, payload, as_json)


def return_(
    customer: str = typer.Option(None, help="Customer code."),
    item: str = typer.Option(None, help="Item SKU."),
    location: str = typer.Option(None, help="Location receiving the return (often quarantine)."),
    quantity: str = typer.Option(None, "--qty", help="Quantity returned."),
    lot: str = typer.Option(None, help="Lot code the goods were shipped from."),
    at: datetime = WhenOpt,
    ref: str = RefOpt,
    input_file: str = InputOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Take goods back from a customer into their original lot."""
    payload = read_input(input_file)
    if payload is None:
        _require(customer=customer, item=item, location=location, qty=quantity)
        line = _one_lot_line(item, location, quantity, lot)
        payload = _present({"customer": customer, "lines": [line], "occurred_at": at, "external_ref": ref})
    _post(inventory.return_goods, ReturnIn, payload, as_json)


STOCK_COLUMNS = ["sku", "lot_code", "lot_status", "expires_at", "location", "location_kind", "quantity", "uom"]


def stock(
    item: str = typer.Option(None, help="Only this item (SKU)."),
    location: str = typer.Option(None, help="Only this location (code)."),
    lot: str = typer.Option(None, help="Only this lot (code; add --item when codes repeat)."),
    as_json: bool = JsonOpt,
) -> None:
    """On-hand by item, lot and location."""
    with read_snapshot() as s:
        item_id = catalog.resolve(s, Item, item).id if item else None
        location_id = catalog.resolve(s, Location, location).id if location else None
        lot_id = lots_service.find_lot(s, lot, item_ref=item).id if lot else None
        rows = lots_service.on_hand(s, item_id=item_id, location_id=location_id, lot_id=lot_id)
    emit(rows, STOCK_COLUMNS, as_json=as_json, title="On hand")


MOVEMENT_TYPES = tuple(MovementType)  # the movement_type CHECK of inventory_movements


def _check_choice(option: str, value: str | None, allowed: tuple[str, ...]) -> None:
    # a filter on a value that cannot exist would silently list nothing
    if value is not None and value not in allowed:
        raise InvalidInput(f"{option} {value!r} is unknown; one of: {', '.join(allowed)}")


LOT_COLUMNS = ["sku", "lot_code", "status", "vendor_lot_code", "received_at", "manufactured_at", "expires_at"]


@lot_app.command("list")
def lot_list(
    item: str = typer.Option(None, help="Only lots of this item (SKU)."),
    status: str = typer.Option(None, help="Only lots in this status."),
    limit: int = typer.Option(500, min=1, max=100_000),
    as_json: bool = JsonOpt,
) -> None:
    """List lots."""
    _check_choice("--status", status, tuple(LotStatus))
    with read_snapshot() as s:
        item_id = catalog.resolve(s, Item, item).id if item else None
        rows = [lots_service.lot_row(lot, sku) for lot, sku in lots_service.list_lots(s, item_id=item_id, status=status, limit=limit)]
    emit(rows, LOT_COLUMNS, as_json=as_json, title="Lots")


@lot_app.command("show")
def lot_show(lot: str, item: str = typer.Option(None, help="Item SKU when the code repeats."), as_json: bool = JsonOpt) -> None:
    """One lot with its on-hand by location."""
    with read_snapshot() as s:
        found = lots_service.find_lot(s, lot, item_ref=item)
        sku = s.get_one(Item, found.item_id).sku
        row = lots_service.lot_row(found, sku)
        row["on_hand"] = lots_service.on_hand(s, lot_id=found.id)
    if as_json:
        print_json(row)
        return
    emit([row], LOT_COLUMNS, as_json=False)
    emit(row["on_hand"], ["location", "location_kind", "quantity", "uom"], as_json=False, title="On hand")


@lot_app.command("history")
def lot_history(
    lot: str,
    item: str = typer.Option(None, help="Item SKU when the code repeats."),
    statuses: bool = typer.Option(False, "--statuses", help="Only the status changes (who, when, from, to, why)."),
    as_json: bool = JsonOpt,
) -> None:
    """Every movement of a lot in time order with its running total, then its status changes with
    who made them and why (from the audit trail)."""
    with read_snapshot() as s:
        found = lots_service.find_lot(s, lot, item_ref=item)
        rows = [] if statuses else queries.lot_history(s, found.id)
        changes = audit.lot_status_history(s, found.id)
        code = found.lot_code
    status_columns = ["at", "actor", "actor_kind", "from_status", "to_status", "reason"]
    if statuses:
        emit(changes, status_columns, as_json=as_json, title=f"Status changes of lot {code}")
        return
    if not as_json:
        emit(changes, status_columns, as_json=False, title=f"Status changes of lot {code}")
    emit(
        rows,
        ["occurred_at", "movement_type", "external_ref", "location", "quantity_delta", "running_total", "uom"],
        as_json=as_json,
        title=f"History of lot {code}",
    )


@lot_app.command("status")
def lot_status(
    lot: str,
    status: str = typer.Argument(..., help="active | quarantine | blocked | expired | consumed"),
    item: str = typer.Option(None, help="Item SKU when the code repeats."),
    reason: str = typer.Option(None, help="Why (required); appended to the lot's notes and the audit trail."),
    sign: str = SignOpt,
    password_stdin: bool = PasswordStdinOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Change a lot's status (quarantine, block, release, ...); a release to active needs --sign."""
    change = LotStatusChange(status=status, reason=reason, signature=signature(sign, password_stdin))
    with transaction() as s:
        found = lots_service.find_lot(s, lot, item_ref=item)
        lots_service.change_status(s, found, change)
        row = lots_service.lot_row(found, s.get_one(Item, found.item_id).sku)
    emit([row], LOT_COLUMNS, as_json=as_json)


@lot_app.command("expire")
def lot_expire(as_json: bool = JsonOpt) -> None:
    """Mark lots whose expiry has passed as expired."""
    with transaction() as s:
        n = lots_service.expire_due(s, utcnow())
    if as_json:
        print_json({"expired": n})
    else:
        console.print(f"{n} lot(s) marked expired")


@movement_app.command("list")
def movement_list(
    movement_type: str = typer.Option(None, "--type", help="Only this movement type."),
    limit: int = typer.Option(50, min=1, max=100_000),
    as_json: bool = JsonOpt,
) -> None:
    """Latest movements."""
    _check_choice("--type", movement_type, MOVEMENT_TYPES)
    with read_snapshot() as s:
        rows = queries.list_movements(s, limit=limit, movement_type=movement_type)
    emit(rows, ["id", "movement_type", "status", "occurred_at", "external_ref", "lines"], as_json=as_json, title="Movements")


def _movement_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a movement id (a UUID)") from None


@movement_app.command("show")
def movement_show(movement_id: str, as_json: bool = JsonOpt) -> None:
    """One movement with its lines and lots."""
    with read_snapshot() as s:
        detail = queries.movement_detail(s, _movement_id(movement_id))
    if as_json:
        print_json(detail)
        return
    console.print(f"{detail['movement_type']} {detail['id']} ({detail['status']}) at {detail['occurred_at']}")
    emit_movement_lines(detail)


@movement_app.command("reverse")
def movement_reverse(
    movement_id: str,
    reason: str = typer.Option(..., help="Why the movement is reversed."),
    at: datetime = WhenOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Post the exact opposite of a movement (receipts, transfers, adjustments, scrap, returns)."""
    data = ReversalIn(reason=reason, occurred_at=at)
    detail = retry.run_transaction(lambda s: _detail(s, inventory.reverse(s, _movement_id(movement_id), data)))
    _show_posted(detail, as_json)
