"""``lotline generate --scale N``: a deterministic synthetic year of a food plant, bulk-loaded
with COPY and proven by the invariant checker (``--check-only`` runs just the checker)."""

from __future__ import annotations

import json
import sys

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from lotline.cli.common import console, run
from lotline.db.engine import normalize_url, resolve_url
from lotline.errors import RuleViolation
from lotline.serialize import to_jsonable

PHASES = {
    "generate": "simulating + COPY (days)",
    "indexes": "re-creating indexes",
    "analyze": "VACUUM ANALYZE",
    "check": "checking invariants",
}


def _url(database_url: str | None) -> str:
    return normalize_url(database_url) if database_url else resolve_url()


def _checks_table(results) -> Table:
    table = Table(title="Invariant checks", header_style="bold")
    for col in ("check", "violations", "seconds", "sample"):
        table.add_column(col, justify="right" if col in ("violations", "seconds") else "left")
    for c in results:
        mark = "[green]0[/]" if c.ok else f"[red]{c.violations}[/]"
        table.add_row(c.name.removeprefix("check_"), mark, f"{c.seconds:.1f}", c.sample or "")
    return table


def _fail_if_broken(results) -> None:
    broken = [c for c in results if not c.ok]
    if broken:
        raise RuleViolation(
            "invariant check failed: "
            + "; ".join(f"{c.name.removeprefix('check_')}: {c.violations} (e.g. {c.sample})" for c in broken)
        )


def generate(
    scale: int = typer.Option(
        1, "--scale", min=1, help="1 ≈ 10k movement-lot rows and 1k lots; 1000 ≈ 10M and 1M."
    ),
    seed: int = typer.Option(7, "--seed", help="Same seed + scale = same data."),
    database_url: str = typer.Option(
        None, "--database-url", help="Target database (default: LOTLINE_DATABASE_URL or the embedded one)."
    ),
    force: bool = typer.Option(False, "--force", help="Wipe a database that already holds data (TRUNCATE)."),
    no_check: bool = typer.Option(False, "--no-check", help="Skip the invariant checker after loading."),
    check_only: bool = typer.Option(
        False, "--check-only", help="Only run the invariant checker on the database."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Generate a realistic, deterministic data set (refuses a non-empty database unless --force)."""
    from lotline.generate import checker, loader  # noqa: PLC0415 — CLI start-up: only this command needs the generator

    url = run(lambda: _url(database_url))
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(PHASES.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=total)

        if check_only:
            results = run(
                lambda: checker.run_checks(
                    loader.psycopg_url(url), progress=lambda d, n: report("check", d, n)
                )
            )
            result = None
        else:
            result = run(
                lambda: loader.generate(url, scale, seed, force=force, check=not no_check, progress=report)
            )
            results = result.check
    if as_json:
        doc = {"checks": [c.__dict__ for c in results]}
        if result is not None:
            doc |= {
                "database": result.database,
                "scale": result.scale,
                "seed": result.seed,
                "rows": result.rows,
                "total_rows": result.total_rows,
                "seconds_generate_load": round(result.seconds_generate_load, 2),
                "rows_per_second": round(result.rows_per_second),
                "seconds_indexes": round(result.seconds_indexes, 2),
                "seconds_analyze": round(result.seconds_analyze, 2),
                "seconds_check": round(result.seconds_check, 2),
                "most_used_raw_lot": result.most_used_raw_lot,
            }
        sys.stdout.write(json.dumps(to_jsonable(doc), indent=2) + "\n")
    else:
        if result is not None:
            table = Table(
                title=f"Generated scale {result.scale} (seed {result.seed}) into {result.database}",
                header_style="bold",
            )
            table.add_column("table")
            table.add_column("rows", justify="right")
            for t, n in result.rows.items():
                table.add_row(t, f"{n:,}")
            table.add_row("[bold]total[/]", f"[bold]{result.total_rows:,}[/]")
            console.print(table)
            console.print(
                f"simulate + COPY {result.seconds_generate_load:.1f} s ({result.rows_per_second:,.0f} rows/s), "
                f"indexes {result.seconds_indexes:.1f} s, vacuum/analyze {result.seconds_analyze:.1f} s"
            )
            if result.most_used_raw_lot:
                m = result.most_used_raw_lot
                console.print(
                    f"most-used raw lot: {m['sku']} {m['lot_code']} ({m['lot_id']}), in {m['executions']:,} executions"
                )
        if results:
            console.print(_checks_table(results))
    if results:
        run(lambda: _fail_if_broken(results))
