"""``lotline epcis import|export|validate|job|id``: EPCIS 2.0 documents in and out."""

from __future__ import annotations

import json
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from lotline.catalog import service as catalog
from lotline.cli.common import console, emit, err_console, print_json, run, safe_text
from lotline.db import read_snapshot, transaction
from lotline.epcis import capture, export, masterdata
from lotline.errors import InvalidInput, LotlineError
from lotline.models import Customer, Item, Location, Vendor
from lotline.serialize import decimal_text
from lotline.trace import service as trace_service

app = typer.Typer(help="GS1 EPCIS 2.0: capture documents, export traces and recalls.", no_args_is_help=True)


@app.command("import")
def import_(
    files: list[Path] = typer.Argument(..., help="EPCIS 2.0 JSON documents, imported one after the other."),
    atomic: bool = typer.Option(False, "--atomic", help="All or nothing per document."),
    create_master_data: bool = typer.Option(False, "--create-master-data", help="Create unknown items, locations, parties."),
    as_json: bool = typer.Option(False, "--json", help="Print the jobs as JSON."),
) -> None:
    """Capture documents: validate each whole, then post its events (report per event)."""

    def body():
        jobs, worst = [], 0
        for path in files:
            src = capture.source_of_path(path)
            with Progress(TextColumn(f"{path.name}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
                task = bar.add_task("events", total=None)

                def progress(done: int, total: int, bar: Progress = bar, task: TaskID = task) -> None:
                    bar.update(task, completed=done, total=total)

                job = capture.capture(src, atomic=atomic, create_master_data=create_master_data, name=str(path),
                                      progress=progress)
            jobs.append(job)
            if job.status == "failed":
                worst = max(worst, 2 if job.error and "schema" in job.error else 6)
            elif job.status == "partial":
                worst = max(worst, 6)
            if not as_json:
                _print_job(path, job)
        if as_json:
            print_json([{"file": str(p), "id": j.id, "status": j.status, **j.counts, "error": j.error,
                         "refusals": [r.__dict__ for r in j.refusals]} for p, j in zip(files, jobs, strict=True)])
        if worst:
            raise typer.Exit(worst)

    run(body)


def _print_job(path: Path, job: capture.Job) -> None:
    c = job.counts
    console.print(
        f"[bold]{safe_text(str(path))}[/]: {job.status} — {job.events_total} events: {c['posted']} posted, {c['replayed']} replayed, "
        f"{c['stored']} stored, {c['skipped']} skipped, {c['refused']} refused (job {job.id})",
        highlight=False,
    )
    if job.error:
        err_console.print(f"[red]{safe_text(job.error)}[/]", highlight=False)
    for r in job.refusals[:50]:
        err_console.print(f"  [red]refused ({r.code}):[/] {safe_text(r.message or '')}", highlight=False)
    if len(job.refusals) > 50:
        err_console.print(f"  ... {len(job.refusals) - 50} more; see `lotline epcis job {job.id}`")


@app.command("validate")
def validate_(file: Path) -> None:
    """Check a document against the EPCIS 2.0 schema rules without posting anything."""

    def body():
        problems = capture.validate_document(capture.source_of_path(file))
        if problems:
            for p in problems:
                err_console.print(safe_text(p), highlight=False)
            raise typer.Exit(2)
        console.print(f"{safe_text(str(file))}: valid EPCIS 2.0 document")

    run(body)


@app.command("job")
def job(job_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """A capture job read back: status, counters, per-event results."""

    def body():
        try:
            jid = uuid.UUID(job_id)
        except ValueError:
            raise InvalidInput(f"job id {job_id!r} is not a UUID") from None
        with read_snapshot() as s:
            data = capture.get_job(s, jid)
        if as_json:
            print_json(data)
            return
        console.print(f"job {data['id']}: {data['status']} ({data['source']})", highlight=False)
        emit(data["results"], ["seq", "event_type", "outcome", "mapping", "code", "message"], as_json=False)

    run(body)


@app.command("export")
def export_(
    lot: str | None = typer.Option(None, "--lot", help="Lot code (or id) whose trace is exported."),
    item: str | None = typer.Option(None, "--item", help="Item SKU when the lot code is used by several items."),
    direction: str = typer.Option("forward", "--direction", help="forward | backward | both"),
    as_of: str | None = typer.Option(None, "--as-of", help="ISO time: the ledger as it stood then."),
    recall: str | None = typer.Option(None, "--recall", help="Export a recall's latest trace run instead."),
    digital_link: bool = typer.Option(False, "--digital-link", help="GS1 Digital Link URIs instead of URNs."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file (default: stdout)."),
) -> None:
    """One EPCIS 2.0 JSON-LD document with the events of a trace or a recall's trace run."""

    def body():
        if (lot is None) == (recall is None):
            raise InvalidInput("give exactly one of --lot and --recall")
        with read_snapshot() as s:
            if recall is not None:
                doc = export.export_recall(s, recall, digital_link=digital_link)
            elif lot is not None:
                start = trace_service.resolve_lot(s, lot, item=item)
                doc = export.export_lots(s, [start.id], direction, trace_service.parse_as_of(as_of),
                                         digital_link=digital_link)
        text = json.dumps(doc, indent=1, default=_plain)
        if output is None:
            sys.stdout.write(text + "\n")
        else:
            output.write_text(text + "\n", encoding="utf-8")
            err_console.print(f"{len(doc['epcisBody']['eventList'])} events written to {safe_text(str(output))}")

    run(body)


def _plain(value):
    return decimal_text(value) if isinstance(value, Decimal) else str(value)


_TARGETS: dict[str, tuple[type[Item] | type[Location] | type[Vendor] | type[Customer], str]] = {"item": (Item, "gtin"), "location": (Location, "gln"), "vendor": (Vendor, "gln"), "customer": (Customer, "gln")}


@app.command("id")
def add_id(
    kind: str = typer.Argument(..., help="item | location | vendor | customer"),
    ref: str = typer.Argument(..., help="SKU or code"),
    digits: str = typer.Argument(..., help="GTIN (items) or GLN (the others), with its check digit"),
    extension: str = typer.Option("", "--extension", help="SGLN extension of a location"),
    company_prefix_length: int | None = typer.Option(None, "--company-prefix-length", help="6..12; needed to write URNs"),
) -> None:
    """Attach a GS1 identifier to a record (several per record are allowed)."""

    def body():
        if kind not in _TARGETS:
            raise InvalidInput(f"kind must be one of {', '.join(_TARGETS)}, got {kind!r}")
        model, scheme = _TARGETS[kind]
        with transaction() as s:
            record = catalog.resolve(s, model, ref)
            masterdata.add_identifier(s, kind, record.id, scheme, digits, extension=extension,
                                      company_prefix_length=company_prefix_length)
        console.print(f"{kind} {ref}: {scheme.upper()} {digits} added")

    run(body)


__all__ = ["app", "LotlineError"]
