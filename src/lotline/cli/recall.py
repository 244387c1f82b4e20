"""``lotline recall``: cases, targets, trace runs, exports, report, mock drill (actions and notices:
cli/recall_steps.py; strategy, consignees, responses, reports: cli/recall_completion.py)."""

from __future__ import annotations

import sys
import uuid
from datetime import datetime
from pathlib import Path

import typer

from lotline.cli import recall_steps
from lotline.cli.common import JsonOpt, console, emit, print_json
from lotline.cli.recall_steps import AtOpt
from lotline.cli.signing import PasswordStdinOpt, SignOpt, signature
from lotline.db import read_snapshot, transaction
from lotline.errors import InvalidInput
from lotline.recalls import service, strategy
from lotline.recalls.completion_schemas import strategy_from_file
from lotline.recalls.flows import drill as drill_mod
from lotline.recalls.schemas import (
    CaseIn,
    CaseStatus,
    CaseUpdate,
    RunIn,
    TargetIn,
    TransitionIn,
)
from lotline.reports import files, fsma204_export, recall_report

app = typer.Typer(
    help="Recalls: cases, trace runs, actions, customer notices, exports.", no_args_is_help=True
)
app.add_typer(recall_steps.action_app, name="action")
app.add_typer(recall_steps.notice_app, name="notice")

CASE_COLUMNS = ["recall_number", "status", "severity", "initiated_at", "closed_at", "summary"]


def _case_row(case) -> dict:
    return service.case_dict(case)


# --- cases ---------------------------------------------------------------------------------------


@app.command("create")
def create(
    number: str = typer.Option(
        None, "--number", help="Recall number (ASCII letters, digits, . _ -); default RC-<year>-<nnnn>."
    ),
    severity: str = typer.Option(None, help="low | medium | high | critical"),
    summary: str = typer.Option(None, help="What is recalled and why."),
    notes: str = typer.Option(None),
    lot: list[str] = typer.Option(None, "--lot", help="Target lot code or id (repeatable)."),
    item: list[str] = typer.Option(None, "--item", help="Target item SKU: all its lots (repeatable)."),
    strategy_file: Path = typer.Option(
        None, "--strategy", help="The recall strategy as JSON (see `lotline recall strategy --help`)."
    ),
    activate: bool = typer.Option(False, "--activate", help="Initiate the recall right away (needs --strategy and --sign)."),
    sign: str = SignOpt,
    password_stdin: bool = PasswordStdinOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Open a recall case (draft), optionally with targets and strategy, optionally initiated."""
    data = CaseIn(recall_number=number, severity=severity, summary=summary, notes=notes)
    if sign is not None and not activate:
        raise InvalidInput("--sign signs the activation: give it with --activate")
    signed = signature(sign, password_stdin) if activate else None
    with transaction() as s:
        case = service.create_case(s, data)
        for ref in lot or []:
            service.add_target(s, case.id, TargetIn(lot=ref))
        for ref in item or []:
            service.add_target(s, case.id, TargetIn(item=ref))
        if strategy_file is not None:
            strategy.set_strategy(s, case, strategy_from_file(strategy_file))
        if activate:
            service.activate(s, case.id, TransitionIn(signature=signed))
        row = _case_row(case)
    emit([row], CASE_COLUMNS, as_json=as_json)


@app.command("list")
def list_(
    status: str = typer.Option(None, help="draft | active | closed | canceled"), as_json: bool = JsonOpt
) -> None:
    """List recall cases, newest first."""
    if status is not None and status not in tuple(CaseStatus):  # would silently list nothing
        raise InvalidInput(f"--status {status!r} is unknown; one of: {', '.join(CaseStatus)}")
    with read_snapshot() as s:
        rows = [_case_row(c) for c in service.list_cases(s, status=status)]
    emit(rows, CASE_COLUMNS, as_json=as_json)


@app.command("show")
def show(case: str, as_json: bool = JsonOpt) -> None:
    """One case: status, targets, trace runs, actions and notices by status."""
    with read_snapshot() as s:
        c = service.find_case(s, case)
        data = {
            **_case_row(c),
            "targets": service.list_targets(s, c),
            "trace_runs": service.list_runs(s, c),
            "effectiveness": service.effectiveness(s, c.id),
        }
    if as_json:
        print_json(data)
        return
    emit([data], CASE_COLUMNS, as_json=False, title=f"recall {data['recall_number']}")
    emit(data["targets"], ["target_type", "lot_code", "sku", "uom", "id"], as_json=False, title="targets")
    emit(
        data["trace_runs"],
        ["id", "status", "as_of", "computed_at", "lots", "shipments", "customers"],
        as_json=False,
        title="trace runs",
    )
    e = data["effectiveness"]
    console.print(
        f"customers impacted {e['customers_impacted']}, notified {e['customers_notified']}, "
        f"failed {e['customers_failed']}; actions {e['actions']}"
    )


@app.command("update")
def update(
    case: str,
    severity: str = typer.Option(None),
    summary: str = typer.Option(None),
    notes: str = typer.Option(None),
    as_json: bool = JsonOpt,
) -> None:
    """Change severity, summary or notes of a draft or active case."""
    given = {
        k: v for k, v in {"severity": severity, "summary": summary, "notes": notes}.items() if v is not None
    }
    with transaction() as s:
        row = _case_row(service.update_case(s, case, CaseUpdate(**given)))
    emit([row], CASE_COLUMNS, as_json=as_json)


def _transition(fn, case: str, at: datetime | None, reason: str | None, as_json: bool, signed=None) -> None:
    with transaction() as s:
        row = _case_row(fn(s, case, TransitionIn(at=at, reason=reason, signature=signed)))
    emit([row], CASE_COLUMNS, as_json=as_json)


@app.command("activate")
def activate_(
    case: str,
    at: datetime = AtOpt,
    reason: str = typer.Option(None),
    sign: str = SignOpt,
    password_stdin: bool = PasswordStdinOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Initiate a draft recall (draft -> active); signed: `lotline --as NAME recall activate R --sign approved`."""
    _transition(service.activate, case, at, reason, as_json, signature(sign, password_stdin))


@app.command("close")
def close(
    case: str,
    at: datetime = AtOpt,
    reason: str = typer.Option(None, help="Why (required)."),
    sign: str = SignOpt,
    password_stdin: bool = PasswordStdinOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Close an active recall (no open actions); needs --reason and a signature (--sign)."""
    _transition(service.close, case, at, reason, as_json, signature(sign, password_stdin))


@app.command("cancel")
def cancel(
    case: str, at: datetime = AtOpt, reason: str = typer.Option(None), as_json: bool = JsonOpt
) -> None:
    """Cancel a draft or active recall; its open actions are canceled too."""
    _transition(service.cancel, case, at, reason, as_json)


@app.command("target-add")
def target_add(
    case: str,
    lot: str = typer.Option(None, "--lot", help="Lot code or id."),
    item: str = typer.Option(
        None, "--item", help="Item SKU (alone: the whole item; with --lot: the lot's item)."
    ),
    uom: str = typer.Option(None, help="Unit of measure of an item target (default the item's)."),
    as_json: bool = JsonOpt,
) -> None:
    """Add a lot or item target."""
    with transaction() as s:
        t = service.add_target(s, case, TargetIn(lot=lot, item=item, uom=uom))
        rows = [x for x in service.list_targets(s, service.find_case(s, case)) if x["id"] == t.id]
    emit(rows, ["target_type", "lot_code", "sku", "uom", "id"], as_json=as_json)


@app.command("target-remove")
def target_remove(case: str, target_id: str, reason: str = typer.Option(None, help="Why (required).")) -> None:
    """Remove a target (draft or active cases)."""
    with transaction() as s:
        service.remove_target(s, case, _uuid(target_id, "target id"), reason)
    console.print("[green]removed[/]")


def _uuid(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a UUID") from None


# --- trace runs ----------------------------------------------------------------------------------

LOT_COLUMNS = ["role", "lot_code", "sku", "status", "on_hand", "uom", "expires_at"]
SHIPMENT_COLUMNS = ["customer_code", "customer_name", "sales_order_number", "shipped_at", "contact_email"]
SHOWN = 50  # rows of each table printed for people; --json has them all


@app.command("trace")
def trace_(
    case: str,
    as_of: datetime = typer.Option(None, "--as-of", help="Trace as of this time (ISO 8601); default now."),
    direction: str = typer.Option("both", help="forward | backward | both"),
    max_depth: int = typer.Option(None, help="Stop after this many production hops."),
    notes: str = typer.Option(None),
    as_json: bool = JsonOpt,
) -> None:
    """Compute and persist a trace run (supersedes the previous one)."""
    data = RunIn(as_of=as_of, direction=direction, max_depth=max_depth, notes=notes)
    with transaction() as s:
        run_id = service.compute_run(s, case, data).id
    _show_run(case, str(run_id), as_json)


def _show_run(case: str, run: str | None, as_json: bool) -> None:
    with read_snapshot() as s:
        c = service.find_case(s, case)
        r = service.find_run(s, run, c) if run else service.latest_run(s, c)
        head = {
            "id": r.id,
            "status": r.status,
            "as_of": r.as_of,
            "computed_at": r.computed_at,
            "notes": r.notes,
        }
        lots, ships = service.run_lots(s, r.id), service.run_shipments(s, r.id)
    if as_json:
        print_json({**head, "impacted_lots": lots, "impacted_shipments": ships})
        return
    console.print(
        f"trace run {head['id']} ({head['status']}) as of {head['as_of']:%Y-%m-%d %H:%M}: "
        f"{len(lots)} lots, {len(ships)} shipments, {len({x['customer_code'] for x in ships})} customers"
    )
    for rows, columns, title in (
        (lots, LOT_COLUMNS, "impacted lots"),
        (ships, SHIPMENT_COLUMNS, "impacted shipments"),
    ):
        emit(rows[:SHOWN], columns, as_json=False, title=title)
        if len(rows) > SHOWN:
            console.print(
                f"[dim]… {len(rows) - SHOWN:,} more {title}; see --json, `recall export` or `recall report`[/]"
            )


@app.command("impacted")
def impacted(
    case: str,
    run: str = typer.Option(None, help="Run id; default the computed run."),
    as_json: bool = JsonOpt,
) -> None:
    """Impacted lots and shipments of a trace run."""
    _show_run(case, run, as_json)


@app.command("runs")
def runs(case: str, as_json: bool = JsonOpt) -> None:
    """Trace runs of a case, oldest first."""
    with read_snapshot() as s:
        rows = service.list_runs(s, service.find_case(s, case))
    emit(
        rows,
        ["id", "status", "as_of", "computed_at", "lots", "shipments", "customers", "notes"],
        as_json=as_json,
    )


@app.command("diff")
def diff(old_run: str, new_run: str, as_json: bool = JsonOpt) -> None:
    """What became (added) or stopped being (removed) impacted between two runs."""
    with read_snapshot() as s:
        d = service.diff_runs(s, _uuid(old_run, "run id"), _uuid(new_run, "run id"))
    if as_json:
        print_json(d)
        return
    emit(d["lots"], ["change", "lot_code", "sku", "role"], as_json=False, title="lots")
    emit(
        d["shipments"],
        ["change", "customer_code", "sales_order_number", "shipped_at"],
        as_json=False,
        title="shipments",
    )


# --- effectiveness, exports, report, drill -------------------------------------------------------


@app.command("effectiveness")
def effectiveness(case: str, as_json: bool = JsonOpt) -> None:
    """Status report figures (21 CFR 7.53): customers notified, quantity recovered, timings."""
    with read_snapshot() as s:
        e = service.effectiveness(s, case)
    if as_json:
        print_json(e)
        return
    rows = [{"figure": k, "value": v} for k, v in e.items() if k not in ("quantities", "actions")]
    rows.append({"figure": "actions", "value": ", ".join(f"{k} {v}" for k, v in e["actions"].items())})
    emit(rows, ["figure", "value"], as_json=False, title=f"effectiveness of {e['recall_number']}")
    emit(
        e["quantities"],
        ["uom", "impacted", "quarantined", "scrapped", "returned", "recovered", "recovered_pct"],
        as_json=False,
        title="quantities",
    )


def _write(out: str | None, payload: bytes | str, default_name: str) -> None:
    """Write to ``--out`` (the user's choice of path) or to ``default_name`` in the working directory.

    ``default_name`` comes from ``reports.files.export_name``: one safe file name, no directories.
    """
    data = payload.encode() if isinstance(payload, str) else payload
    if out == "-":
        sys.stdout.buffer.write(data)
        return
    path = Path(out or default_name)
    path.write_bytes(data)
    console.print(f"[green]wrote[/] {path} ({len(data):,} bytes)")


@app.command("export")
def export(
    case: str,
    fmt: str = typer.Option("xlsx", "--format", help="csv | xlsx"),
    out: str = typer.Option(
        None, "--out", help="File to write ('-' = stdout); default <number>-fsma204.<fmt>."
    ),
    run: str = typer.Option(None, help="Trace run id; default the computed run."),
) -> None:
    """FSMA 204 electronic sortable spreadsheet of the trace (one row per critical tracking event)."""
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput(f"--format must be csv or xlsx, not {fmt!r}")
    with read_snapshot() as s:
        number = service.find_case(s, case).recall_number
        done = fsma204_export.export(s, fsma204_export.run_sources(s, case, run), csv=fmt == "csv",
                                     xlsx=fmt == "xlsx", title=f"FSMA 204 {number}")
    payload = done.csv if fmt == "csv" else done.xlsx
    assert payload is not None
    _write(out, payload, files.export_name(number, "fsma204", fmt))


@app.command("report")
def report(
    case: str,
    fmt: str = typer.Option("html", "--format", help="html | json"),
    out: str = typer.Option(
        None, "--out", help="File to write ('-' = stdout); default <number>-report.<fmt>."
    ),
) -> None:
    """Recall report: case, timeline, targets, impacted lots and customers, actions, notices, effectiveness."""
    if fmt not in ("html", "json"):
        raise InvalidInput(f"--format must be html or json, not {fmt!r}")
    with read_snapshot() as s:
        data = service.report_data(s, case)
    payload = recall_report.to_html(data) if fmt == "html" else recall_report.to_json(data)
    _write(out, payload, files.export_name(data["case"]["recall_number"], "report", fmt))


@app.command("mock")
def mock(
    lot: list[str] = typer.Option(..., "--lot", help="Lot code or id to recall (repeatable)."),
    item: str = typer.Option(None, "--item", help="The lots' item when a code is ambiguous."),
    out_dir: Path = typer.Option(None, "--out-dir", help="Keep the exports and report here."),
    as_json: bool = JsonOpt,
) -> None:
    """Mock recall drill: case, targets, trace run, planned actions, exports, report, then cancel."""

    def show_step(step: drill_mod.Step) -> None:
        if not as_json:
            console.print(f"  {step.seconds * 1000:8.0f} ms  {step.name}: {step.detail}", highlight=False)

    if not as_json:
        console.print("[bold]mock recall drill[/]")
    result = drill_mod.run_drill(lot, item=item, out_dir=out_dir, on_step=show_step)
    if as_json:
        print_json({**result.__dict__, "total_seconds": result.total_seconds})
        return
    console.print(
        f"  {result.total_seconds * 1000:8.0f} ms  [bold]total[/] ({result.recall_number}, canceled)"
    )
    for f in result.files:
        console.print(f"  wrote {f}")
