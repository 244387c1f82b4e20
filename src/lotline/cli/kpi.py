"""KPI commands: ``lotline kpi run|list|publish|archive|show|compare|series|chart|export|defs``.

A run is created and computed in one transaction (``kpi run``); publishing freezes it. Listings
take ``--json``; ``kpi run`` shows a progress bar on stderr while the SQL steps run.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lotline.cli.common import JsonOpt, console, emit, err_console, print_json
from lotline.cli.signing import PasswordStdinOpt, SignOpt, signature
from lotline.db import read_snapshot, transaction
from lotline.errors import InvalidInput
from lotline.kpis import service
from lotline.kpis.schemas import KPIS, RunIn

app = typer.Typer(help="Inventory KPI runs: turns, days of inventory, fill rates.", no_args_is_help=True)

RUN_COLUMNS = ["id", "status", "window_start", "window_end", "as_of", "notes"]
SNAPSHOT_COLUMNS = ["kpi", "label", "value", "units", "null_reason", "numerator", "denominator"]

KpiOpt = typer.Option(None, "--kpi", help="Only this KPI (see `lotline kpi defs`).")
ItemOpt = typer.Option(None, "--item", help="Item SKU or id (dimension containment).")
LocationOpt = typer.Option(None, "--location", help="Location code or id.")
CustomerOpt = typer.Option(None, "--customer", help="Customer code or id.")
LevelOpt = typer.Option(
    None, "--level", help="Exact dimension level: overall | item | location | item_location | customer."
)


def _dims(s, item, location, customer, raw: str | None = None) -> dict:
    dims = service.dimensions_for(s, item=item, location=location, customer=customer)
    if raw:
        try:
            extra = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--dims is not valid JSON: {exc}") from exc
        dims.update(service.check_dimensions(extra))
    return dims


@app.command("run")
def run(
    start: str = typer.Option(..., "--start", help="Window start (ISO 8601 date or time, UTC if no zone)."),
    end: str = typer.Option(..., "--end", help="Window end, exclusive."),
    as_of: str = typer.Option(None, "--as-of", help="Ignore facts recorded after this time (default now)."),
    notes: str = typer.Option(None, "--notes"),
    publish: bool = typer.Option(False, "--publish", help="Publish the run right away (needs --sign)."),
    sign: str = SignOpt,
    password_stdin: bool = PasswordStdinOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create and compute a KPI run for the window [start, end)."""
    data = RunIn(window_start=start, window_end=end, as_of=as_of, notes=notes)
    signed = signature(sign, password_stdin) if publish else None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("computing", total=len(service.COMPUTE_STEPS))

        def step(label: str, done: int, total: int) -> None:
            progress.update(task, description=label, completed=done)

        # One snapshot of the ledger for every compute step (REPEATABLE READ).
        with transaction(isolation="REPEATABLE READ") as s:
            r = service.run_kpis(s, data, progress=step)
            if publish:
                service.publish_run(s, r.id, signed)
            row = service.run_row(r)
            row["snapshots"] = len(service.snapshots(s, r.id, level="overall"))
    if as_json:
        print_json(row)
        return
    console.print(f"[green]{row['status']}[/] KPI run {row['id']}")
    _show_overall(row["id"])


def _show_overall(run_id) -> None:
    with read_snapshot() as s:
        rows = [service.snapshot_row(x) for x in service.snapshots(s, run_id, level="overall")]
    emit(rows, ["kpi", "value", "units", "null_reason"], as_json=False, title="Overall")


@app.command("list")
def list_(
    status: str = typer.Option(None, "--status", help="draft | computed | published | archived"),
    all_: bool = typer.Option(False, "--all", help="Include archived runs."),
    as_json: bool = JsonOpt,
) -> None:
    """List KPI runs, newest first (archived runs hidden unless --all)."""
    with read_snapshot() as s:
        rows = [service.run_row(r) for r in service.list_runs(s, status=status, include_archived=all_)]
    emit(rows, RUN_COLUMNS, as_json=as_json, title="KPI runs")


def _transition(fn, run_id: str, as_json: bool, *args) -> None:
    with transaction() as s:
        row = service.run_row(fn(s, run_id, *args))
    if as_json:
        print_json(row)
    else:
        console.print(f"KPI run {row['id']} is now [green]{row['status']}[/]")


@app.command("publish")
def publish(
    run_id: str, sign: str = SignOpt, password_stdin: bool = PasswordStdinOpt, as_json: bool = JsonOpt
) -> None:
    """computed -> published (immutable from now on); signed: `lotline --as NAME kpi publish ID --sign approved`."""
    _transition(service.publish_run, run_id, as_json, signature(sign, password_stdin))


@app.command("archive")
def archive(run_id: str, as_json: bool = JsonOpt) -> None:
    """published -> archived (hidden from `kpi list`)."""
    _transition(service.archive_run, run_id, as_json)


@app.command("show")
def show(
    run_id: str,
    kpi: str = KpiOpt,
    item: str = ItemOpt,
    location: str = LocationOpt,
    customer: str = CustomerOpt,
    level: str = LevelOpt,
    dims: str = typer.Option(None, "--dims", help='Raw dimensions JSON, e.g. {"item_id": "<uuid>"}.'),
    limit: int = typer.Option(200, "--limit", help="At most this many rows (0 = all)."),
    as_json: bool = JsonOpt,
) -> None:
    """A run and its snapshots, filtered by KPI, dimension containment and level."""
    with read_snapshot() as s:
        r = service.run_row(service.get_run(s, run_id))
        d = _dims(s, item, location, customer, dims)
        rows = [
            service.snapshot_row(x)
            for x in service.snapshots(s, run_id, kpi=kpi, dimensions=d, level=level, limit=limit or None)
        ]
    if as_json:
        print_json({"run": r, "snapshots": rows})
        return
    emit([r], RUN_COLUMNS, as_json=False, title="KPI run")
    emit(rows, SNAPSHOT_COLUMNS, as_json=False, title="Snapshots")
    if limit and len(rows) == limit:
        console.print(f"[dim](first {limit} rows; --limit 0 for all, or filter with --kpi/--item/--level)[/]")


@app.command("compare")
def compare(
    run_a: str,
    run_b: str,
    kpi: str = KpiOpt,
    item: str = ItemOpt,
    location: str = LocationOpt,
    customer: str = CustomerOpt,
    level: str = typer.Option("overall", "--level", help="Dimension level to compare (default overall)."),
    as_json: bool = JsonOpt,
) -> None:
    """Two runs side by side: value_a, value_b and delta (b - a) per KPI and dimension."""
    with read_snapshot() as s:
        d = _dims(s, item, location, customer)
        rows = service.compare(s, run_a, run_b, kpi=kpi, dimensions=d, level=level)
    out = [
        {
            "kpi": c.kpi_name,
            "label": c.label,
            "dimensions": c.dimensions,
            "value_a": c.value_a,
            "value_b": c.value_b,
            "delta": c.delta,
        }
        for c in rows
    ]
    emit(out, ["kpi", "label", "value_a", "value_b", "delta"], as_json=as_json, title="Comparison (b - a)")


@app.command("series")
def series(
    kpi: str,
    item: str = ItemOpt,
    location: str = LocationOpt,
    customer: str = CustomerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """One KPI for one exact dimension across published runs."""
    with read_snapshot() as s:
        points = service.time_series(s, kpi, dimensions=_dims(s, item, location, customer))
    rows = [
        {
            "run_id": p.run_id,
            "window_start": p.window_start,
            "window_end": p.window_end,
            "as_of": p.as_of,
            "value": p.value,
            "units": p.units,
            "null_reason": p.null_reason,
        }
        for p in points
    ]
    emit(rows, ["window_start", "window_end", "value", "units", "null_reason"], as_json=as_json, title=kpi)


@app.command("chart")
def chart(
    kpi: str,
    out: Path = typer.Option(..., "--out", help="SVG file to write."),
    run_id: str = typer.Option(
        None, "--run", help="Bar chart of one run across --by (default: time series)."
    ),
    by: str = typer.Option("item", "--by", help="With --run: item | location | item_location | customer."),
    top: int = typer.Option(20, "--top", help="With --run: largest N values."),
    item: str = ItemOpt,
    location: str = LocationOpt,
    customer: str = CustomerOpt,
) -> None:
    """Write an SVG chart: a KPI across published runs, or (--run) across a dimension of one run."""
    if out.suffix.lower() != ".svg":
        raise InvalidInput(f"--out {out}: charts are written as SVG; use a .svg file name")
    with read_snapshot() as s:
        if run_id:
            svg = service.run_chart(s, run_id, kpi, by=by, top=top)
        else:
            svg = service.series_chart(s, kpi, dimensions=_dims(s, item, location, customer))
    out.write_text(svg, encoding="utf-8")
    console.print(f"wrote {out}")


@app.command("export")
def export(
    run_id: str,
    out: Path = typer.Option(None, "--out", help="CSV file (default stdout)."),
    kpi: str = KpiOpt,
    level: str = LevelOpt,
) -> None:
    """All of a run's snapshots (with numerators/denominators) as CSV."""
    with read_snapshot() as s:
        r = service.get_run(s, run_id)
        text = service.to_csv(r.id, service.snapshots(s, r.id, kpi=kpi, level=level))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {out}")


@app.command("defs")
def defs(as_json: bool = JsonOpt) -> None:
    """The KPI catalogue: names, levels, units, numerator and denominator."""
    rows = [
        {
            "kpi": k.name,
            "levels": ", ".join(k.levels),
            "units": k.units,
            "numerator": k.numerator,
            "denominator": k.denominator or "(additive: roll-up = sum)",
            "definition": k.definition,
        }
        for k in KPIS.values()
    ]
    emit(rows, ["kpi", "levels", "units", "numerator", "denominator"], as_json=as_json, title="KPIs")
