"""``lotline trace forward|backward|both LOT...``: the genealogy as a Rich tree, JSON, CSV or SVG."""

from __future__ import annotations

import json
import sys
import uuid
from collections import defaultdict
from pathlib import Path

import typer
from rich.table import Table
from rich.tree import Tree

from lotline.cli.common import console, fmt, run
from lotline.db import read_snapshot
from lotline.errors import InvalidInput
from lotline.trace import service as trace_service
from lotline.trace.export import write_csv
from lotline.trace.svg import render_svg
from lotline.vocab import LotRole, LotStatus

app = typer.Typer(
    help="Trace lots forward (where used), backward (where from) or both.", no_args_is_help=True
)

STATUS_COLOUR: dict[str, str] = {
    LotStatus.BLOCKED: "red", LotStatus.QUARANTINE: "yellow", LotStatus.EXPIRED: "magenta", LotStatus.CONSUMED: "dim"
}


def _one_format() -> None:
    raise InvalidInput("choose one of --json and --csv")


def _trace(
    direction: str,
    lots: list[str],
    item: str | None,
    as_of: str | None,
    max_depth: int | None,
    with_stock: bool,
):
    when = trace_service.parse_as_of(as_of)
    if not lots:
        raise InvalidInput("name at least one lot (code, or id)")
    with read_snapshot() as s:
        ids = [trace_service.resolve_lot(s, ref, item=item).id for ref in lots]
        return trace_service.trace(s, ids, direction, when, max_depth, with_stock=with_stock)


def _label(lot: trace_service.TracedLot) -> str:
    colour = STATUS_COLOUR.get(lot.status)
    status = f"[{colour}]{lot.status}[/]" if colour else lot.status
    return f"[bold]{lot.lot_code}[/] {lot.sku} ({status})"


def build_tree(result: trace_service.TraceResult, *, limit: int = 200) -> Tree:  # noqa: C901 — counted with its two closures (shipments, the recursive walk), which share its state
    """Targets at the root; downstream lots under the lot that first reached them (BFS tree),
    upstream components under a 'from' branch; shipments under the lots that shipped."""
    lots = {(x.lot_id, x.role): x for x in result.lots}
    by_id = {x.lot_id: x for x in result.lots}
    children: dict[uuid.UUID, list] = defaultdict(list)
    parents: dict[uuid.UUID, list] = defaultdict(list)
    for e in result.edges:
        children[e.parent_lot_id].append(e)
        parents[e.child_lot_id].append(e)
    ships: dict[uuid.UUID, list] = defaultdict(list)
    for s in result.shipments:
        ships[s.lot_id].append(s)
    q = trace_service.format_quantity
    root = Tree(
        f"[bold]{result.direction} trace[/] as of {result.as_of:%Y-%m-%d %H:%M} UTC — "
        f"{len(result.lots)} lots, {len(result.shipments)} shipments, {len(result.customers)} customers"
    )
    shown = [0]

    def add_shipments(node: Tree, lot_id: uuid.UUID) -> None:
        rows = ships.get(lot_id, [])
        for s in rows[:5]:
            node.add(
                f"[cyan]→ {s.customer_code}[/] {s.customer_name}: {q(s.quantity)} {s.uom} on {s.shipped_at:%Y-%m-%d} ({s.sales_order_number})"
            )
        if len(rows) > 5:
            node.add(f"[cyan]… {len(rows) - 5} more shipments[/]")

    def walk(node: Tree, lot_id: uuid.UUID, role: str, edges_of, other_end, seen: set) -> None:
        for e in sorted(
            edges_of.get(lot_id, []), key=lambda e: (by_id[other_end(e)].sku, by_id[other_end(e)].lot_code)
        ):
            nxt = other_end(e)
            target = lots.get((nxt, role))
            if target is None:
                continue
            if shown[0] >= limit:
                node.add("[dim]… (tree cut; use --json or --csv for everything)[/]")
                return
            shown[0] += 1
            qty = f"[dim]{q(e.consumed_quantity)} → {q(e.produced_quantity)}, {e.occurred_at:%Y-%m-%d}[/]"
            if nxt in seen:
                node.add(f"{_label(target)} {qty} [dim](shown above)[/]")
                continue
            seen.add(nxt)
            child = node.add(f"{_label(target)} depth {target.depth} {qty}")
            if role == LotRole.DOWNSTREAM_FINISHED:
                add_shipments(child, nxt)
            walk(child, nxt, role, edges_of, other_end, seen)

    for start in result.start_lot_ids:
        target = lots[(start, LotRole.TARGET)]
        node = root.add(f"🎯 {_label(target)} {target.item_name}")
        add_shipments(node, start)
        if result.direction in ("forward", "both"):
            branch = node.add("[bold]used in[/]")
            walk(branch, start, LotRole.DOWNSTREAM_FINISHED, children, lambda e: e.child_lot_id, {start})
        if result.direction in ("backward", "both"):
            branch = node.add("[bold]made from[/]")
            walk(branch, start, LotRole.UPSTREAM_COMPONENT, parents, lambda e: e.parent_lot_id, {start})
    return root


def _print(result: trace_service.TraceResult, limit: int) -> None:
    console.print(build_tree(result, limit=limit))
    if result.receipts:
        table = Table(title="Receipts and returns", header_style="bold")
        for col in ("lot", "type", "date", "from", "vendor lot", "location", "quantity"):
            table.add_column(col, justify="right" if col == "quantity" else "left")
        by_id = {x.lot_id: x for x in result.lots}
        for r in result.receipts[:limit]:
            table.add_row(
                by_id[r.lot_id].lot_code,
                r.movement_type,
                fmt(r.occurred_at),
                r.vendor_code or r.customer_code or "",
                r.vendor_lot_code or "",
                r.location_code,
                fmt(r.quantity),
            )
        console.print(table)
    if result.on_hand:
        table = Table(title="On hand", header_style="bold")
        for col in ("lot", "sku", "status", "location", "quantity"):
            table.add_column(col, justify="right" if col == "quantity" else "left")
        for h in result.on_hand[:limit]:
            colour = STATUS_COLOUR.get(h.status)
            table.add_row(
                h.lot_code,
                h.sku,
                f"[{colour}]{h.status}[/]" if colour else h.status,
                h.location_code,
                f"{fmt(h.quantity)} {h.uom}",
            )
        console.print(table)
    if result.mass_balance:
        imbalanced = [m for m in result.mass_balance if not m.balanced]
        rows = result.mass_balance if len(result.mass_balance) <= 30 else imbalanced
        table = Table(title="Mass balance (in = out + on hand)", header_style="bold")
        for col in ("lot", "in", "out", "on hand", "imbalance"):
            table.add_column(col, justify="left" if col == "lot" else "right")
        for m in rows:
            flag = "[red]" if not m.balanced else ""
            table.add_row(
                m.lot_code, fmt(m.total_in), fmt(m.total_out), fmt(m.on_hand), f"{flag}{fmt(m.imbalance)}"
            )
        console.print(table)
        if len(result.mass_balance) > 30:
            console.print(
                f"{len(result.mass_balance)} lots, {len(imbalanced)} imbalanced (only those listed)"
            )
    for c in result.cycles:
        console.print(f"[yellow]cycle:[/] {' → '.join(c.lot_codes)} (lots that are their own ancestors)")


def _command(direction: str):
    def command(
        lots: list[str] = typer.Argument(..., help="Lot code(s) or id(s)."),
        item: str = typer.Option(None, "--item", help="Item SKU, when a lot code is used by several items."),
        as_of: str = typer.Option(None, "--as-of", help="Trace as of this time (ISO 8601); default now."),
        max_depth: int = typer.Option(None, "--max-depth", help="Stop after this many hops."),
        as_json: bool = typer.Option(False, "--json", help="Print the JSON document."),
        as_csv: bool = typer.Option(False, "--csv", help="Print one sortable CSV sheet."),
        svg: Path = typer.Option(None, "--svg", help="Also write the genealogy graph to this SVG file."),
        limit: int = typer.Option(200, "--limit", help="Most lots shown in the tree and tables."),
        no_stock: bool = typer.Option(
            False, "--no-stock", help="Skip receipts, on-hand and mass balance (faster on huge traces)."
        ),
    ) -> None:
        if as_json and as_csv:
            run(_one_format)
        result = run(lambda: _trace(direction, lots, item, as_of, max_depth, not no_stock))
        if svg is not None:
            svg.write_text(render_svg(result), encoding="utf-8")
        if as_json:
            sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        elif as_csv:
            write_csv(result, sys.stdout)
        else:
            _print(result, limit)
            if svg is not None:
                console.print(f"genealogy graph written to {svg}")

    command.__doc__ = {
        "forward": "Where used: the lots made from LOT, and the customers who received them.",
        "backward": "Where from: every component lot behind LOT, back to the receipts.",
        "both": "Both directions at once.",
    }[direction]
    return command


for _direction in ("forward", "backward", "both"):
    app.command(_direction)(_command(_direction))
