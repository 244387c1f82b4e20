"""The recall room's follow-up: consignees and their responses, effectiveness checks, 7.53 status
reports and the 7.46 initial report — the same service calls as `lotline recall response|check|
status-report|initial-report`, each step one transaction (errors shown in the room)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse

from lotline.db import read_snapshot
from lotline.errors import InvalidInput
from lotline.recalls import checks, consignees, status_reports
from lotline.recalls import service as recalls
from lotline.recalls.completion_schemas import CheckResultIn, RecordedResponseIn
from lotline.reports import initial_report
from lotline.web.context import Ctx, need
from lotline.web.routes.recalls import _do

router = APIRouter()
Read = Annotated[Ctx, Depends(need("read"))]
Write = Annotated[Ctx, Depends(need("recall.write"))]


def _qty(text: str, name: str) -> Decimal:
    try:
        return Decimal((text or "0").strip() or "0")
    except InvalidOperation:
        raise InvalidInput(f"{name}: {text!r} is not a number") from None


@router.post("/recalls/{number}/responses")
def record_response(
    ctx: Write, number: str, consignee: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = "phone",
    holds: Annotated[str, Form()] = "", on_hand: Annotated[str, Form()] = "0", returned: Annotated[str, Form()] = "0",
    destroyed: Annotated[str, Form()] = "0", responder: Annotated[str, Form()] = "", notes: Annotated[str, Form()] = "",
):
    form = {"consignee": consignee, "channel": channel, "holds": holds, "on_hand": on_hand, "returned": returned,
            "destroyed": destroyed, "responder": responder, "notes": notes}

    def step(s):
        data = RecordedResponseIn(
            channel=channel, holds_product=holds == "yes", quantity_on_hand=_qty(on_hand, "on hand"),
            quantity_returned=_qty(returned, "returned"), quantity_destroyed=_qty(destroyed, "destroyed"),
            responder=responder, notes=notes or None)
        consignees.record_response(s, recalls.find_case(s, number), consignee, data,
                                   recorded_by=ctx.user.actor if ctx.user else None)

    return _do(ctx, number, step, form, to=f"/recalls/{number}#consignees")


@router.post("/recalls/{number}/checks/draw")
def draw_checks(ctx: Write, number: str):
    return _do(ctx, number, lambda s: checks.draw_sample(s, recalls.find_case(s, number, lock="update")), {},
               to=f"/recalls/{number}#consignees")


@router.post("/recalls/{number}/checks/{check_id}")
def record_check(ctx: Write, number: str, check_id: str, result: Annotated[str, Form()] = ""):
    return _do(ctx, number, lambda s: checks.record_check(
        s, recalls.find_case(s, number), check_id, CheckResultIn(result=result),
        checked_by=ctx.user.actor if ctx.user else None), {"result": result}, to=f"/recalls/{number}#consignees")


@router.post("/recalls/{number}/status-reports")
def issue_status_report(ctx: Write, number: str):
    return _do(ctx, number, lambda s: status_reports.issue(
        s, recalls.find_case(s, number, lock="update"), issued_by=ctx.user.actor if ctx.user else None), {},
        to=f"/recalls/{number}#consignees")


@router.get("/recalls/{number}/initial-report.html")
def initial_report_html(ctx: Read, number: str) -> HTMLResponse:
    with read_snapshot() as s:
        data = initial_report.data(s, recalls.find_case(s, number))
    return HTMLResponse(initial_report.to_html(data))
