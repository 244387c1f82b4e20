"""``lotline recall action …`` and ``lotline recall notice …``: the recall's actions (block,
quarantine, scrap, restock, notify) and its customer notices (email over SMTP; phone, letter and
portal recorded by hand)."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lotline.cli.common import JsonOpt, console, emit, print_json
from lotline.db import read_snapshot, transaction
from lotline.recalls import service
from lotline.recalls.flows import notify
from lotline.recalls.schemas import ActionIn, ActionRun, DraftIn, RecordIn

action_app = typer.Typer(
    help="Recall actions (block, quarantine, scrap, restock, notify).", no_args_is_help=True
)
notice_app = typer.Typer(
    help="Customer notices (email over SMTP; phone/letter/portal recorded).", no_args_is_help=True
)
AtOpt = typer.Option(None, "--at", help="When it happened (ISO 8601); default now.")


# --- actions -------------------------------------------------------------------------------------

ACTION_COLUMNS = ["id", "action_type", "status", "lot_code", "sku", "customer_code", "inventory_movement_id"]


def _action_rows(s, action_ids) -> list[dict]:
    action = service.find_action(s, action_ids[0])
    wanted = set(action_ids)
    return [
        a for a in service.list_actions(s, service.find_case(s, action.recall_case_id)) if a["id"] in wanted
    ]


@action_app.command("plan")
def action_plan(
    case: str,
    action_type: str = typer.Argument(
        ..., help="block_lot | quarantine_lot | scrap_lot | restock_lot | customer_notify"
    ),
    lot: str = typer.Option(None, "--lot"),
    item: str = typer.Option(None, "--item", help="The lot's item when its code is ambiguous."),
    shipment: str = typer.Option(None, "--shipment", help="Shipment id (customer_notify)."),
    notes: str = typer.Option(None),
    as_json: bool = JsonOpt,
) -> None:
    """Plan one action on an active recall."""
    data = ActionIn(action_type=action_type, lot=lot, item=item, shipment=shipment, notes=notes)
    with transaction() as s:
        a = service.plan_action(s, case, data)
        rows = _action_rows(s, [a.id])
    emit(rows, ACTION_COLUMNS, as_json=as_json)


@action_app.command("plan-all")
def action_plan_all(case: str, as_json: bool = JsonOpt) -> None:
    """Plan the standard action set from the computed trace run."""
    with transaction() as s:
        n = service.plan_all(s, case)
    if as_json:
        print_json({"planned": n})
    else:
        console.print(f"[green]{n}[/] actions planned")


@action_app.command("list")
def action_list(case: str, status: str = typer.Option(None), as_json: bool = JsonOpt) -> None:
    """Actions of a case."""
    with read_snapshot() as s:
        rows = service.list_actions(s, service.find_case(s, case), status=status)
    emit(rows, ACTION_COLUMNS, as_json=as_json)


@action_app.command("start")
def action_start(action_id: str, as_json: bool = JsonOpt) -> None:
    """planned -> in_progress."""
    with transaction() as s:
        rows = _action_rows(s, [service.start_action(s, action_id).id])
    emit(rows, ACTION_COLUMNS, as_json=as_json)


@action_app.command("cancel")
def action_cancel(action_id: str, reason: str = typer.Option(None), as_json: bool = JsonOpt) -> None:
    """planned|in_progress -> canceled (nothing moves)."""
    with transaction() as s:
        rows = _action_rows(s, [service.cancel_action(s, action_id, reason).id])
    emit(rows, ACTION_COLUMNS, as_json=as_json)


def _run_data(at, location, channel, notes) -> ActionRun:
    return ActionRun(occurred_at=at, location=location, channel=channel, notes=notes)


@action_app.command("run")
def action_run(
    action_id: str,
    at: datetime = AtOpt,
    location: str = typer.Option(
        None, help="Quarantine location (quarantine_lot) or storage location (restock_lot)."
    ),
    channel: str = typer.Option("email", help="Channel of the notices customer_notify drafts."),
    notes: str = typer.Option(None),
    as_json: bool = JsonOpt,
) -> None:
    """Carry out an action: move the stock / change the lot / draft the notices; mark it completed."""
    with transaction() as s:
        rows = _action_rows(s, [service.run_action(s, action_id, _run_data(at, location, channel, notes)).id])
    emit(rows, ACTION_COLUMNS, as_json=as_json)


@action_app.command("run-all")
def action_run_all(
    case: str,
    location: str = typer.Option(None, help="Quarantine location for quarantine_lot actions."),
    channel: str = typer.Option("email"),
    as_json: bool = JsonOpt,
) -> None:
    """Carry out every planned or in-progress action, one transaction each; stops at the first error."""
    with read_snapshot() as s:
        c = service.find_case(s, case)
        todo = [a["id"] for a in service.list_actions(s, c) if a["status"] in service.OPEN_ACTION]
    done = []
    with Progress(
        TextColumn("actions"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("run", total=len(todo))
        for action_id in todo:
            with transaction() as s:
                service.run_action(s, action_id, _run_data(None, location, channel, None))
            done.append(action_id)
            progress.advance(task)
    if as_json:
        print_json({"completed": len(done)})
    else:
        console.print(f"[green]{len(done)}[/] actions completed")


# --- notices -------------------------------------------------------------------------------------

NOTICE_COLUMNS = ["id", "customer_code", "channel", "status", "sent_at", "external_ref"]


@notice_app.command("draft")
def notice_draft(
    case: str,
    channel: str = typer.Option("email", help="email | phone | letter | portal"),
    customer: list[str] = typer.Option(None, "--customer", help="Only these customers (repeatable)."),
    instructions: str = typer.Option(None, help="What customers must do (default: standard instructions)."),
    as_json: bool = JsonOpt,
) -> None:
    """Draft one notice per impacted customer for a channel (skips customers already drafted)."""
    with transaction() as s:
        created = service.draft_communications(
            s, case, DraftIn(channel=channel, customers=customer or None, instructions=instructions)
        )
        ids = {c.id for c in created}
        rows = [x for x in service.list_communications(s, service.find_case(s, case)) if x["id"] in ids]
    emit(rows, NOTICE_COLUMNS, as_json=as_json)


@notice_app.command("list")
def notice_list(case: str, status: str = typer.Option(None), as_json: bool = JsonOpt) -> None:
    """Notices of a case."""
    with read_snapshot() as s:
        rows = service.list_communications(s, service.find_case(s, case), status=status)
    emit(rows, NOTICE_COLUMNS, as_json=as_json)


@notice_app.command("show")
def notice_show(notice_id: str) -> None:
    """Subject and body of one notice."""
    with read_snapshot() as s:
        c = service.find_communication(s, notice_id)
        console.print(f"[bold]{c.subject}[/]  ({c.channel}, {c.status})", highlight=False)
        console.print(c.body or "", highlight=False, markup=False)


@notice_app.command("send")
def notice_send(
    target: str = typer.Argument(..., help="A notice id, or a recall number/id with --all."),
    all_: bool = typer.Option(False, "--all", help="Send every draft email notice of the case."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="With --all: resend failed ones too."),
    force: bool = typer.Option(
        False, "--force", help="Override a stale 'sending' claim (check the mail log first)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Send email notices over SMTP (LOTLINE_SMTP_*); failures are recorded and exit with code 7."""
    if all_:
        with Progress(
            TextColumn("sending"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as progress:
            task = progress.add_task("send", total=None)
            results = notify.send_pending(
                target, include_failed=retry_failed, on_result=lambda r: progress.advance(task)
            )
    else:
        results = [notify.send_email(target, force=force)]
    emit(
        [r.__dict__ for r in results],
        ["customer_code", "recipient", "status", "message_id", "error"],
        as_json=as_json,
    )
    if any(r.status == "failed" for r in results):
        raise typer.Exit(7)


@notice_app.command("record")
def notice_record(
    notice_id: str,
    status: str = typer.Option(..., help="sent | failed"),
    at: datetime = AtOpt,
    reference: str = typer.Option(None, help="Call log number, letter tracking id, or the failure reason."),
    as_json: bool = JsonOpt,
) -> None:
    """Record a phone call, letter or portal notice done by hand."""
    with transaction() as s:
        c = service.record_communication(
            s, notice_id, RecordIn(status=status, sent_at=at, reference=reference)
        )
        rows = [
            x
            for x in service.list_communications(s, service.find_case(s, c.recall_case_id))
            if x["id"] == c.id
        ]
    emit(rows, NOTICE_COLUMNS, as_json=as_json)
