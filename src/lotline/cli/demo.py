"""``lotline demo``: the main job of the Quick start."""

from __future__ import annotations

import time

import typer
from rich.panel import Panel

from lotline import config
from lotline import demo as demo_mod
from lotline.cli.common import JsonOpt, console, emit, print_json


def demo(
    as_json: bool = JsonOpt,
    database: str = typer.Option(demo_mod.DEMO_DATABASE, "--database", help="Name of the demo database (re-created)."),
) -> None:
    """Build a fresh demo database, post a bakery's fortnight, show lots, stock and refused postings."""
    started = time.perf_counter()
    if as_json:
        report = demo_mod.run(database=database)
        print_json({"database_url": report.database_url, "steps": report.steps, "refused": report.refused, "lots": report.lots, "on_hand": report.on_hand, "users": report.users})
        return
    with console.status("starting the database…"):
        report = demo_mod.run(progress=lambda msg: console.print(f"[green]✓[/] {msg}"), database=database)
    emit(report.lots, ["sku", "lot_code", "status", "vendor_lot_code", "expires_at", "on_hand"], as_json=False, title="Lots")
    emit(report.on_hand, ["sku", "lot_code", "lot_status", "location", "location_kind", "quantity", "uom"], as_json=False, title="On hand by lot and location")
    console.print(Panel.fit("\n\n".join(f"[bold]{a}[/]\n  → [red]{code}[/]: {msg}" for a, code, msg in report.refused), title="Refused postings"))
    emit(report.users, ["name", "roles", "password"], as_json=False, title="Demo users")
    console.print("API tokens of the demo users (send as 'Authorization: Bearer …'):")
    for user in report.users:
        console.print(f"  {user['name']:<9} {user['token']}", highlight=False, soft_wrap=True)
    console.print(f"done in {time.perf_counter() - started:.1f} s")
    if config.database_url():
        hint = f"LOTLINE_DATABASE_URL='{report.database_url}'"
    else:
        hint = f"LOTLINE_DATABASE={database}"
    console.print(f"explore it:  [bold]{hint} .venv/bin/lotline stock[/]   (or lot list, movement list, audit --lot Y-1210, serve)", soft_wrap=True)
    token = next(u["token"] for u in report.users if u["name"] == "operator")
    console.print(
        f"API:  [bold]{hint} .venv/bin/lotline serve[/], then  "
        f"[bold]curl -H 'Authorization: Bearer {token}' http://127.0.0.1:8000/api/v1/lots[/]",
        soft_wrap=True,
        highlight=False,
    )


__all__ = ["demo", "typer"]
