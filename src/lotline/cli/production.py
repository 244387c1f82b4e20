"""``lotline wo``: work orders and their executions."""

from __future__ import annotations

from datetime import datetime

import typer

from lotline.cli.common import JsonOpt, console, emit, emit_movement_lines, print_json, read_input, split_spec
from lotline.db import read_snapshot, retry, transaction
from lotline.errors import InvalidInput
from lotline.inventory import queries
from lotline.production import service
from lotline.production.schemas import ExecutionIn, WorkOrderIn

app = typer.Typer(help="Work orders: create, execute (consume + produce), list.", no_args_is_help=True)


@app.command("create")
def create(
    number: str,
    item: str = typer.Option(..., help="SKU of the item produced."),
    quantity: str = typer.Option(..., "--qty", help="Planned quantity."),
    as_json: bool = JsonOpt,
) -> None:
    """Create a work order."""
    data = WorkOrderIn(number=number, item=item, planned_quantity=quantity)
    with transaction() as s:
        wo = service.create_work_order(s, data)
        row = {"id": wo.id, "number": wo.number, "status": wo.status, "planned_quantity": wo.planned_quantity, "uom": wo.uom}
    emit([row], ["number", "status", "planned_quantity", "uom"], as_json=as_json)


def _consume(spec: str) -> dict:
    parts = split_spec(spec, 3, 4, "SKU:LOCATION:QTY or SKU:LOCATION:QTY:LOTCODE")
    line = {"item": parts[0], "location": parts[1], "quantity": parts[2]}
    if len(parts) == 4:
        line["lots"] = [{"lot": parts[3], "quantity": parts[2]}]
    return line


def _produce(spec: str) -> dict:
    parts = split_spec(spec, 3, 4, "LOCATION:QTY:LOTCODE or LOCATION:QTY:LOTCODE:SKU")
    line = {"location": parts[0], "quantity": parts[1], "lot_code": parts[2]}
    if len(parts) == 4:
        line["item"] = parts[3]
    return line


@app.command("execute")
def execute(
    number: str,
    consume: list[str] = typer.Option(None, help="SKU:LOCATION:QTY[:LOTCODE], repeatable; no lot = FEFO."),
    produce: list[str] = typer.Option(None, help="LOCATION:QTY:LOTCODE[:SKU], repeatable."),
    at: datetime = typer.Option(None, "--at", help="When it happened (ISO 8601); default now."),
    ref: str = typer.Option(None, "--ref", help="External reference (idempotent)."),
    input_file: str = typer.Option(None, "--input", help="JSON payload file ('-' for stdin)."),
    as_json: bool = JsonOpt,
) -> None:
    """Post one execution: consumption and output together, with lot genealogy."""
    payload = read_input(input_file)
    if payload is None:
        if not produce:
            raise InvalidInput("give at least one --produce LOCATION:QTY:LOTCODE (or --input FILE)")
        payload = {"consume": [_consume(c) for c in consume or []], "produce": [_produce(p) for p in produce]}
        if at:
            payload["occurred_at"] = at
        if ref:
            payload["external_ref"] = ref
    data = ExecutionIn.model_validate(payload)
    def post(s):
        done = service.execute(s, number, data)
        details = [queries.movement_detail(s, p.movement.id) for p in (done.consumed, done.produced) if p]
        return done, details, done.execution.id

    done, details, execution_id = retry.run_transaction(post)
    if as_json:
        print_json({"execution_id": execution_id, "replayed": done.replayed, "movements": details})
        return
    console.print(f"[green]executed[/] {number}: execution {execution_id}" + (" (replayed)" if done.replayed else ""))
    for d in details:
        emit_movement_lines(d, title=d["movement_type"])


@app.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """List work orders."""
    with read_snapshot() as s:
        rows = [
            {"id": wo.id, "number": wo.number, "sku": sku, "status": wo.status, "planned_quantity": wo.planned_quantity, "uom": wo.uom}
            for wo, sku in service.list_work_orders(s)
        ]
    emit(rows, ["number", "sku", "status", "planned_quantity", "uom"], as_json=as_json, title="Work orders")


@app.command("close")
def close(number: str, as_json: bool = JsonOpt) -> None:
    """Close an open work order (no further executions)."""
    with transaction() as s:
        wo = service.set_status(s, service.find_work_order(s, number, lock=True), "closed")
        row = {"id": wo.id, "number": wo.number, "status": wo.status}
    emit([row], ["number", "status"], as_json=as_json)
