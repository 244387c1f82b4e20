"""``lotline import KIND FILE...`` / ``lotline import batch KIND=FILE...`` / ``lotline import template KIND``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lotline.cli.common import console, err_console, print_json, run, safe_text
from lotline.errors import InvalidInput
from lotline.imports import service
from lotline.imports.columns import KINDS

app = typer.Typer(help="Import spreadsheets (CSV or XLSX): master data and postings, all or nothing.", no_args_is_help=True)
DryRun = typer.Option(False, "--dry-run", help="Check everything, write nothing, list every error.")
AsJson = typer.Option(False, "--json", help="Print the report as JSON.")


def _run(files: list[tuple[str, Path]], dry_run: bool, as_json: bool) -> None:
    with Progress(TextColumn("rows"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err_console,
                  transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task("rows", total=None)
        report = service.import_files(files, dry_run=dry_run,
                                      progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        print_json({"dry_run": report.dry_run, "written": report.written, "rows": report.rows, "postings": report.postings,
                    "problems": [p.__dict__ for p in report.problems]})
    else:
        for p in report.problems:
            err_console.print(f"[red]error:[/] {safe_text(str(p))}", highlight=False)
        if report.problems:
            err_console.print(f"{len(report.problems)} error(s); nothing was written", highlight=False)
        elif report.dry_run:
            console.print(f"dry run: {report.rows} rows, {report.postings} postings would be written; nothing was written")
        else:
            console.print(f"{report.rows} rows imported ({report.postings} postings)")
    if report.problems:
        raise typer.Exit(2)


def _kind_command(kind: str):
    def command(files: list[Path] = typer.Argument(..., help=f"CSV or XLSX files of {kind}"),
                dry_run: bool = DryRun, as_json: bool = AsJson) -> None:
        run(lambda: _run([(kind, f) for f in files], dry_run, as_json))

    command.__doc__ = f"Import {kind}: headers {', '.join(c.name + ('*' if c.required else '') for c in KINDS[kind])} (* required)."
    return command


for _kind in KINDS:
    app.command(_kind)(_kind_command(_kind))


@app.command("batch")
def batch(specs: list[str] = typer.Argument(..., help="KIND=FILE pairs, imported in this order in one transaction"),
          dry_run: bool = DryRun, as_json: bool = AsJson) -> None:
    """Several files of several kinds, in one transaction (e.g. items=items.csv receipts=receipts.xlsx)."""

    def body():
        files = []
        for spec in specs:
            kind, sep, path = spec.partition("=")
            if not sep or kind not in KINDS or not path:
                raise InvalidInput(f"{spec!r} should look like KIND=FILE with KIND one of {', '.join(KINDS)}")
            files.append((kind, Path(path)))
        _run(files, dry_run, as_json)

    run(body)


@app.command("template")
def template(kind: str = typer.Argument(..., help=", ".join(KINDS)),
             output: Path | None = typer.Option(None, "-o", "--output", help="file.csv or file.xlsx (default: CSV on stdout)")) -> None:
    """An empty sheet with the documented headers (XLSX adds a README sheet describing each column)."""

    def body():
        text = service.template(kind, output)
        if text is not None:
            sys.stdout.write(text)
        else:
            err_console.print(f"template for {kind} written to {safe_text(str(output))}")

    run(body)
