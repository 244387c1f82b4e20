"""``lotline recall strategy|consignees|link|response|check|status-report|initial-report|inbound``:
running a recall to completion (21 CFR 7.42 strategy, 7.49 responses, 7.53 status reports, 7.46)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import typer

from lotline.cli import access
from lotline.cli.common import JsonOpt, console, emit, print_json
from lotline.db import read_snapshot, transaction
from lotline.errors import InvalidInput
from lotline.recalls import checks, consignees, inbound, status_reports, strategy
from lotline.recalls import service as recalls
from lotline.recalls.completion_schemas import (
    CheckResultIn,
    InboundNoticeIn,
    RecordedResponseIn,
    StrategyIn,
    strategy_from_file,
)
from lotline.reports import initial_report
from lotline.serialize import to_jsonable

response_app = typer.Typer(help="Consignee responses (append-only; a correction is a new response).", no_args_is_help=True)
check_app = typer.Typer(help="Effectiveness checks (levels A-D): draw the sample, record results.", no_args_is_help=True)
report_app = typer.Typer(help="21 CFR 7.53 status reports: issued once, never changed.", no_args_is_help=True)

CONSIGNEE_COLUMNS = ["id", "depth", "name", "customer", "email", "forwarded_by", "responded_at", "holds_product",
                     "quantity_on_hand", "quantity_returned", "quantity_destroyed", "reminders_sent", "check_result"]
RESPONSE_COLUMNS = ["received_at", "consignee", "channel", "responder", "recorded_by", "holds_product",
                    "quantity_on_hand", "quantity_returned", "quantity_destroyed", "forwarded"]
CHECK_COLUMNS = ["id", "consignee", "depth", "seed", "result", "checked_at", "checked_by"]


def strategy_cmd(
    number: str = typer.Argument(..., help="Recall number."),
    fda_class: str = typer.Option(None, "--class", help="FDA class: I | II | III."),
    depth: str = typer.Option(None, help="wholesale | retail | consumer"),
    warning: str = typer.Option(None, "--warning", help="Public warning: none | general | specialized."),
    level: str = typer.Option(None, "--level", help="Effectiveness-check level A (100 %) B (--pct) C (10 %) D (2 %) E (none)."),
    pct: Decimal = typer.Option(None, "--pct", help="Level B: percent of consignees to check (10-100)."),
    reason: str = typer.Option(None, help="Reason for the recall."),
    hazard: str = typer.Option(None, help="Health-hazard evaluation."),
    product: str = typer.Option(None, help="Product description."),
    deadline: datetime = typer.Option(None, help="Response deadline (ISO 8601, UTC if no offset)."),
    reminder_every: int = typer.Option(48, "--reminder-every-hours", help="Hours between reminders."),
    reminders: int = typer.Option(3, "--reminders", help="Reminders before the coordinator is alerted."),
    report_every: int = typer.Option(None, "--report-every-days", help="Issue a 7.53 status report every N days."),
    coordinator: str = typer.Option(None, help="Coordinator's name."),
    coordinator_email: str = typer.Option(None, "--coordinator-email", help="Alerted when consignees do not respond."),
    from_file: Path = typer.Option(None, "--input", help="The strategy as JSON (the API's body) instead of options."),
    show: bool = typer.Option(False, "--show", help="Only show the current strategy."),
    as_json: bool = JsonOpt,
) -> None:
    """Set (or --show) a recall's strategy; required before `recall activate`."""
    if show:
        with read_snapshot() as s:
            out = strategy.as_dict(strategy.get(s, recalls.find_case(s, number)))
    else:
        if from_file is not None:
            data = strategy_from_file(from_file)
        else:
            if deadline is not None and deadline.tzinfo is None:
                deadline = deadline.replace(tzinfo=UTC)
            data = StrategyIn(
                fda_class=fda_class, depth=depth, public_warning=warning, effectiveness_level=level,
                effectiveness_pct=pct, reason=reason, health_hazard=hazard, product_description=product,
                response_deadline=deadline, reminder_interval_hours=reminder_every, reminder_max=reminders,
                status_report_interval_days=report_every, coordinator_name=coordinator,
                coordinator_email=coordinator_email,
            )
        with transaction() as s:
            case = recalls.find_case(s, number, lock="update")
            out = strategy.as_dict(strategy.set_strategy(s, case, data))
    if as_json or out is None:
        print_json(out)
    else:
        emit([{"field": k, "value": v} for k, v in out.items()], ["field", "value"], as_json=False,
             title=f"Strategy of {number}")


def consignees_cmd(
    number: str = typer.Argument(...),
    include_retired: bool = typer.Option(False, "--all", help="Also consignees a newer run retired."),
    as_json: bool = JsonOpt,
) -> None:
    """The consignees (impacted customers and their sub-accounts) with their latest response."""
    with read_snapshot() as s:
        rows = consignees.list_consignees(s, recalls.find_case(s, number), include_retired=include_retired)
    emit(rows, CONSIGNEE_COLUMNS, as_json=as_json, title=f"Consignees of {number}")


def link_cmd(number: str = typer.Argument(...), consignee_id: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Issue a personal response link for a consignee (to give by phone or letter); shown once."""
    with transaction() as s:
        case = recalls.find_case(s, number)
        token = consignees.issue_link(s, case, consignees.find(s, case, consignee_id))
    url = consignees.link_url(token)
    print_json({"url": url}) if as_json else console.print(url, soft_wrap=True)


def _sub_accounts(specs: list[str] | None) -> list[dict]:
    """'NAME:CONTACT[:CONTACT]' — a contact with an @ is the email, otherwise the phone number."""
    out = []
    for spec in specs or []:
        name, *contacts = [p.strip() for p in spec.split(":")]
        if not name or not contacts or len(contacts) > 2:
            raise InvalidInput(f"--sub {spec!r} should look like NAME:EMAIL, NAME:PHONE or NAME:EMAIL:PHONE")
        entry: dict = {"name": name, "email": None, "phone": None}
        for c in contacts:
            entry["email" if "@" in c else "phone"] = c
        out.append(entry)
    return out


@response_app.command("record")
def response_record(
    number: str = typer.Argument(...),
    consignee_id: str = typer.Argument(...),
    channel: str = typer.Option(..., help="phone | letter | email | portal"),
    responder: str = typer.Option(..., help="Who answered."),
    holds: bool = typer.Option(..., "--holds/--does-not-hold", help="Does the consignee still hold the product?"),
    on_hand: Decimal = typer.Option(Decimal(0), "--on-hand"),
    returned: Decimal = typer.Option(Decimal(0)),
    destroyed: Decimal = typer.Option(Decimal(0)),
    forwarded: bool = typer.Option(False, help="Forwarded the recall to its own customers."),
    sub: list[str] = typer.Option(None, "--sub", help="A sub-account NAME:EMAIL[:PHONE] (repeatable)."),
    received_at: datetime = typer.Option(None, "--at", help="When it was received (default now)."),
    notes: str = typer.Option(None),
    as_json: bool = JsonOpt,
) -> None:
    """Record a response taken by phone, letter, email or portal."""
    data = RecordedResponseIn(channel=channel, responder=responder, holds_product=holds, quantity_on_hand=on_hand,
                              quantity_returned=returned, quantity_destroyed=destroyed, forwarded=forwarded,
                              sub_accounts=_sub_accounts(sub), received_at=received_at, notes=notes)
    with transaction() as s:
        case = recalls.find_case(s, number)
        response, added = consignees.record_response(s, case, consignee_id, data, recorded_by=access.current().actor)
        out = {"response_id": response.id, "new_consignees": [{"id": k.id, "name": k.name, "depth": k.depth} for k in added]}
    print_json(out) if as_json else console.print(
        f"response recorded ({len(out['new_consignees'])} new sub-account consignee(s))")


@response_app.command("list")
def response_list(number: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Every response of the case, oldest first (corrections included)."""
    with read_snapshot() as s:
        rows = consignees.responses(s, recalls.find_case(s, number))
    emit(rows, RESPONSE_COLUMNS, as_json=as_json, title=f"Responses to {number}")


@check_app.command("draw")
def check_draw(number: str = typer.Argument(...), seed: int = typer.Option(None, help="Reproduce a draw."),
               as_json: bool = JsonOpt) -> None:
    """Draw and store the consignees to check for the strategy's level (once)."""
    with transaction() as s:
        rows = checks.draw_sample(s, recalls.find_case(s, number, lock="update"), seed=seed)
    emit(rows, CHECK_COLUMNS, as_json=as_json, title=f"Effectiveness checks of {number}")


@check_app.command("list")
def check_list(number: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    with read_snapshot() as s:
        rows = checks.list_checks(s, recalls.find_case(s, number))
    emit(rows, CHECK_COLUMNS, as_json=as_json, title=f"Effectiveness checks of {number}")


@check_app.command("record")
def check_record(number: str = typer.Argument(...), check_id: str = typer.Argument(...),
                 result: str = typer.Option(..., help="effective | ineffective | unreachable"),
                 notes: str = typer.Option(None), as_json: bool = JsonOpt) -> None:
    with transaction() as s:
        row = checks.record_check(s, recalls.find_case(s, number), check_id, CheckResultIn(result=result, notes=notes),
                                  checked_by=access.current().actor)
    emit([row], CHECK_COLUMNS, as_json=as_json)


@report_app.command("issue")
def report_issue(number: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Issue the next status report now (stored as it stands, never recomputed)."""
    with transaction() as s:
        case = recalls.find_case(s, number, lock="update")
        out = status_reports.as_dict(status_reports.issue(s, case, issued_by=access.current().actor))
    _print_report(out, as_json)


@report_app.command("list")
def report_list(number: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    with read_snapshot() as s:
        rows = status_reports.list_reports(s, recalls.find_case(s, number))
    if as_json:
        print_json(rows)
        return
    emit([{"seq": r["seq"], "issued_at": r["issued_at"], "issued_by": r["issued_by"],
           "responding": r["figures"]["consignees"]["responding"], "changes": len(r["changes"])} for r in rows],
         ["seq", "issued_at", "issued_by", "responding", "changes"], as_json=False, title=f"Status reports of {number}")


@report_app.command("show")
def report_show(number: str = typer.Argument(...), seq: int = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    with read_snapshot() as s:
        out = status_reports.get(s, recalls.find_case(s, number), seq)
    _print_report(out, as_json)


def _print_report(out: dict, as_json: bool) -> None:
    if as_json:
        print_json(out)
        return
    console.print(f"[bold]status report #{out['seq']}[/] issued {out['issued_at']} by {out['issued_by']}")
    emit([{"figure": k, "value": v} for k, v in out["figures"]["consignees"].items() if not isinstance(v, dict)],
         ["figure", "value"], as_json=False, title="Consignees")
    if out["changes"]:
        emit([{"figure": k, **v} for k, v in out["changes"].items()], ["figure", "before", "after", "delta"],
             as_json=False, title="Changes since the previous report")


def initial_report_cmd(
    number: str = typer.Argument(...),
    fmt: str = typer.Option("html", "--format", help="html | json"),
    out: Path = typer.Option(None, "--out", help="Write to this file (default stdout)."),
    accounts_xlsx: Path = typer.Option(None, "--accounts-xlsx", help="Also write the direct accounts as XLSX."),
) -> None:
    """The 21 CFR 7.46 initial report (HTML printable to PDF from the browser, or JSON)."""
    if fmt not in ("html", "json"):
        raise InvalidInput(f"--format must be html or json, not {fmt!r}")
    with read_snapshot() as s:
        data = initial_report.data(s, recalls.find_case(s, number))
    text = initial_report.to_html(data) if fmt == "html" else json.dumps(to_jsonable(data), indent=2)
    if accounts_xlsx is not None:
        accounts_xlsx.write_bytes(initial_report.accounts_xlsx(data))
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


def inbound_cmd(
    vendor: str = typer.Option(..., help="The vendor who issued the notice (code)."),
    vendor_lot: list[str] = typer.Option(None, "--vendor-lot", help="A vendor lot code named in the notice (repeatable)."),
    item: list[str] = typer.Option(None, "--item", help="An item SKU (repeatable)."),
    received_from: datetime = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="Received on or after (date)."),
    received_to: datetime = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="Received on or before (date)."),
    summary: str = typer.Option(..., help="What the notice says."),
    severity: str = typer.Option(None),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list the matching lots."),
    as_json: bool = JsonOpt,
) -> None:
    """A supplier's recall notice: open a draft case on the lots we received from it."""
    data = InboundNoticeIn(vendor=vendor, vendor_lot_codes=vendor_lot or [], items=item or [],
                           received_from=received_from.date() if received_from else None,
                           received_to=received_to.date() if received_to else None, summary=summary, severity=severity)
    if dry_run:
        with read_snapshot() as s:
            lots = inbound.match(s, data)
        emit(lots, ["sku", "lot_code", "vendor_lot_code", "received_at"], as_json=as_json, title="Matching lots")
        return
    with transaction() as s:
        opened = inbound.open_case(s, data)
    if as_json:
        print_json(opened)
    else:
        console.print(f"opened draft recall [bold]{opened['recall_number']}[/] on {len(opened['lots'])} lot(s)")
        emit(opened["lots"], ["sku", "lot_code", "vendor_lot_code", "received_at"], as_json=False)


def register(app: typer.Typer) -> None:
    app.command("strategy")(strategy_cmd)
    app.command("consignees")(consignees_cmd)
    app.command("link")(link_cmd)
    app.add_typer(response_app, name="response")
    app.add_typer(check_app, name="check")
    app.add_typer(report_app, name="status-report")
    app.command("initial-report")(initial_report_cmd)
    app.command("inbound")(inbound_cmd)
