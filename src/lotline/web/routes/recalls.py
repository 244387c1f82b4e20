"""Recall board and recall room: the whole case workflow, each step a service call in one transaction.

Long steps (a trace run of thousands of lots, sending thousands of notices) run as console jobs
(web/jobs.py) so the page stays responsive and shows progress.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from lotline import config, db
from lotline.errors import InvalidInput, LotlineError
from lotline.models import Location
from lotline.recalls import checks, consignees, status_reports, strategy
from lotline.recalls import service as recalls
from lotline.recalls.completion_schemas import StrategyIn
from lotline.recalls.flows import notify
from lotline.recalls.schemas import ActionRun, CaseIn, DraftIn, RecordIn, RunIn, TargetIn, TransitionIn
from lotline.reports import files, fsma204_export, recall_report, xlsx
from lotline.vocab import ActionStatus, Channel, LocationKind, NoticeStatus
from lotline.web import jobs
from lotline.web import session as web_session
from lotline.web.context import FORM_ERROR, Ctx, FormErrors, Page, need, utc_text

router = APIRouter()
Read = Annotated[Ctx, Depends(need("read"))]
Write = Annotated[Ctx, Depends(need("recall.write"))]
Sign = Annotated[Ctx, Depends(need("recall.write"))]
NOTICE_PAGE = 50
FIELDS = {"lot": "lot", "item": "item", "ref": "lot", "location": "location", "kind": "lot", "summary": "summary",
          "severity": "severity", "reference": "reference", "status": "status", "at": "at", "reason": "reason",
          "channel": "channel", "fda_class": "fda_class", "depth": "depth", "response_deadline": "response_deadline",
          "health_hazard": "health_hazard", "product_description": "product_description", "effectiveness_level": "effectiveness_level"}


@router.get("/recalls")
def board(ctx: Read, status: str = "", severity: str = ""):
    page = Page(ctx.request, 50)
    with db.read_snapshot() as s:
        cases = [c for c in recalls.list_cases(s, status=status or None, limit=1000)
                 if not severity or c.severity == severity]
        page.total = len(cases)
        shown = cases[page.offset:page.offset + page.size]
        rows = [{"case": c, "eff": recalls.effectiveness(s, c.id)} for c in shown]
        return ctx.render("recalls.html", rows=rows, page=page, status=status, severity=severity, errors={}, form={})


@router.post("/recalls")
def create(ctx: Write, summary: Annotated[str, Form()] = "", severity: Annotated[str, Form()] = "high",
           lot: Annotated[str, Form()] = "", item: Annotated[str, Form()] = ""):
    form = {"summary": summary, "severity": severity, "lot": lot, "item": item}
    try:
        with db.transaction() as s:
            case = recalls.create_case(s, CaseIn(summary=summary or None, severity=severity or None))
            if lot or item:
                recalls.add_target(s, case.id, TargetIn(lot=lot or None, item=item or None))
            number = case.recall_number
    except (LotlineError, ValidationError) as exc:
        page = Page(ctx.request, 50)
        with db.read_snapshot() as s:
            cases = recalls.list_cases(s, limit=50)
            rows = [{"case": c, "eff": recalls.effectiveness(s, c.id)} for c in cases]
            return ctx.render("recalls.html", status_code=FORM_ERROR, rows=rows, page=page, status="", severity="",
                              errors=FormErrors.of(exc, FIELDS), form=form)
    return RedirectResponse(f"/recalls/{number}", status_code=303)


def _room(ctx: Ctx, number: str, *, errors=None, form=None, status_code=200, job_id: str = "", notice: str = ""):
    page = Page(ctx.request, NOTICE_PAGE)
    # the job's state before the data: a job that ends meanwhile then shows as running (and the page
    # reloads), never as completed above data read before its commit
    job = jobs.get(job_id) if job_id else None
    with db.read_snapshot() as s:
        case = recalls.find_case(s, number)
        runs = recalls.list_runs(s, case)
        diff = None
        if len(runs) >= 2:
            diff = recalls.diff_runs(s, runs[-2]["id"], runs[-1]["id"])
        comms = recalls.list_communications(s, case)
        page.total = len(comms)
        preview = None
        preview_id = ctx.request.query_params.get("preview")
        if preview_id:
            comm = recalls.find_communication(s, preview_id)
            preview = {"subject": comm.subject, "body": comm.body, "channel": comm.channel}
        return ctx.render(
            "recall.html",
            status_code=status_code,
            case=case,
            targets=recalls.list_targets(s, case),
            strategy=strategy.as_dict(strategy.get(s, case)),
            runs=runs,
            diff=diff,
            actions=recalls.list_actions(s, case),
            comms=comms[page.offset:page.offset + page.size],
            comm_counts={k: sum(1 for c in comms if c["status"] == k) for k in NoticeStatus},
            page=page,
            preview=preview,
            eff=recalls.effectiveness(s, case.id),
            consignees=consignees.list_consignees(s, case),
            figures=checks.consignee_figures(s, case),
            checks=checks.list_checks(s, case),
            reports=status_reports.list_reports(s, case),
            quarantine=s.scalars(sa.select(Location.code).where(Location.kind == LocationKind.QUARANTINE, Location.active)
                                 .order_by(Location.code)).all(),
            storage=s.scalars(sa.select(Location.code).where(Location.kind == LocationKind.STORAGE, Location.active)
                              .order_by(Location.code)).all(),
            job=job,
            errors=errors or {},
            form=form or {},
            notice=notice,
        )


@router.get("/recalls/{number}")
def room(ctx: Read, number: str, job: str = ""):
    return _room(ctx, number, job_id=job)


def _do(ctx: Ctx, number: str, step, form: dict, *, to: str | None = None):
    """Run one step in one transaction; on a refusal show the room again with the message at its field."""
    try:
        with db.transaction() as s:
            step(s)
    except web_session.SignatureRefused as exc:
        return _room(ctx, number, errors=FormErrors({"sig_password": exc.message}), form=form, status_code=FORM_ERROR)
    except (LotlineError, ValidationError) as exc:
        return _room(ctx, number, errors=FormErrors.of(exc, FIELDS), form=form, status_code=FORM_ERROR)
    return RedirectResponse(to or f"/recalls/{number}", status_code=303)


@router.post("/recalls/{number}/targets")
def add_target(ctx: Write, number: str, lot: Annotated[str, Form()] = "", item: Annotated[str, Form()] = ""):
    return _do(ctx, number, lambda s: recalls.add_target(s, number, TargetIn(lot=lot or None, item=item or None)),
               {"lot": lot, "item": item})


def _target_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidInput(f"target id {text!r} is not a UUID") from None


@router.post("/recalls/{number}/targets/{target_id}/remove")
def remove_target(ctx: Write, number: str, target_id: str, reason: Annotated[str, Form()] = ""):
    return _do(ctx, number, lambda s: recalls.remove_target(s, number, _target_id(target_id), reason or None), {"reason": reason})


@router.post("/recalls/{number}/strategy")
def set_strategy(ctx: Write, number: str, fda_class: Annotated[str, Form()] = "", depth: Annotated[str, Form()] = "",
                 public_warning: Annotated[str, Form()] = "none", effectiveness_level: Annotated[str, Form()] = "A",
                 strategy_reason: Annotated[str, Form()] = "", health_hazard: Annotated[str, Form()] = "",
                 product_description: Annotated[str, Form()] = "", response_deadline: Annotated[str, Form()] = ""):
    """The recall strategy (21 CFR 7.42) a case needs before it can be activated."""
    form = {"fda_class": fda_class, "depth": depth, "public_warning": public_warning, "effectiveness_level": effectiveness_level,
            "strategy_reason": strategy_reason, "health_hazard": health_hazard, "product_description": product_description,
            "response_deadline": response_deadline}

    def step(s):
        data = StrategyIn(fda_class=fda_class, depth=depth, public_warning=public_warning,
                          effectiveness_level=effectiveness_level, reason=strategy_reason, health_hazard=health_hazard,
                          product_description=product_description, response_deadline=utc_text(response_deadline))
        strategy.set_strategy(s, recalls.find_case(s, number, lock="update"), data)
    return _do(ctx, number, step, form)


@router.post("/recalls/{number}/activate")
def activate(ctx: Sign, number: str, sig_password: Annotated[str, Form()] = "",
             sig_meaning: Annotated[str, Form()] = "approved", reason: Annotated[str, Form()] = ""):
    def step(s):
        signed = web_session.signature_of(sig_password, sig_meaning)
        recalls.activate(s, number, TransitionIn(reason=reason or None, signature=signed))
    return _do(ctx, number, step, {})


@router.post("/recalls/{number}/close")
def close(ctx: Sign, number: str, sig_password: Annotated[str, Form()] = "",
          sig_meaning: Annotated[str, Form()] = "approved", reason: Annotated[str, Form()] = ""):
    def step(s):
        signed = web_session.signature_of(sig_password, sig_meaning)
        recalls.close(s, number, TransitionIn(reason=reason or None, signature=signed))
    return _do(ctx, number, step, {})


@router.post("/recalls/{number}/cancel")
def cancel(ctx: Write, number: str, reason: Annotated[str, Form()] = ""):
    return _do(ctx, number, lambda s: recalls.cancel(s, number, TransitionIn(reason=reason or None)), {"reason": reason})


@router.post("/recalls/{number}/runs")
def compute_run(ctx: Write, number: str, direction: Annotated[str, Form()] = "both", as_of: Annotated[str, Form()] = ""):
    try:
        data = RunIn(direction=direction, as_of=utc_text(as_of))
        with db.read_snapshot() as s:
            recalls.find_case(s, number)
    except (LotlineError, ValidationError) as exc:
        return _room(ctx, number, errors=FormErrors.of(exc, {"as_of": "as_of", "direction": "direction"}),
                     form={"as_of": as_of}, status_code=FORM_ERROR)

    def work(job: jobs.Job) -> str:
        job.message = "tracing the targets and recording the impacted lots and shipments"
        with db.transaction() as s:
            run = recalls.compute_run(s, number, data)
            lots = len(recalls.run_lots(s, run.id))
        return f"trace run recorded: {lots} impacted lots"

    job = jobs.start("Trace run", ctx.principal.name, f"/recalls/{number}", work)
    return RedirectResponse(f"/recalls/{number}?job={job.id}#runs", status_code=303)


@router.post("/recalls/{number}/actions/plan-all")
def plan_all(ctx: Write, number: str):
    return _do(ctx, number, lambda s: recalls.plan_all(s, number), {}, to=f"/recalls/{number}#actions")


@router.post("/recalls/{number}/actions/{action_id}/run")
def run_action(ctx: Write, number: str, action_id: str, location: Annotated[str, Form()] = "",
               channel: Annotated[str, Form()] = "email"):
    return _do(ctx, number, lambda s: recalls.run_action(s, action_id, ActionRun(location=location or None, channel=channel)),
               {"location": location}, to=f"/recalls/{number}#actions")


@router.post("/recalls/{number}/actions/run-all")
def run_all(ctx: Write, number: str, location: Annotated[str, Form()] = ""):
    """Every open action of the case in one transaction: all moved, or nothing."""
    def step(s):
        case = recalls.find_case(s, number)
        for a in recalls.list_actions(s, case):
            if a["status"] in (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS):
                recalls.run_action(s, a["id"], ActionRun(location=location or None))
    return _do(ctx, number, step, {"location": location}, to=f"/recalls/{number}#actions")


@router.post("/recalls/{number}/actions/{action_id}/cancel")
def cancel_action(ctx: Write, number: str, action_id: str, reason: Annotated[str, Form()] = ""):
    return _do(ctx, number, lambda s: recalls.cancel_action(s, action_id, reason or None), {}, to=f"/recalls/{number}#actions")


@router.post("/recalls/{number}/notices/draft")
def draft_notices(ctx: Write, number: str, channel: Annotated[str, Form()] = "email",
                  instructions: Annotated[str, Form()] = ""):
    return _do(ctx, number, lambda s: recalls.draft_communications(
        s, number, DraftIn(channel=channel, instructions=instructions or None)), {"channel": channel},
        to=f"/recalls/{number}#notices")


@router.post("/recalls/{number}/notices/send")
def send_notices(ctx: Write, number: str, retry_failed: Annotated[str, Form()] = ""):
    include_failed = retry_failed == "1"
    try:
        settings = config.smtp_settings()  # bad settings are refused here, before any notice is claimed
        notify.tls_context(settings)
        with db.read_snapshot() as s:
            case = recalls.find_case(s, number)
            todo = [c for c in recalls.list_communications(s, case)
                    if c["channel"] == Channel.EMAIL and c["status"] in notify.pending_statuses(include_failed)]
    except LotlineError as exc:
        return _room(ctx, number, errors=FormErrors({"send": exc.message}), status_code=FORM_ERROR)

    def work(job: jobs.Job) -> str:
        job.progress(0, len(todo), "sending")
        counts = {"sent": 0, "failed": 0}

        def on_result(result) -> None:
            counts[result.status] = counts.get(result.status, 0) + 1
            job.progress(job.done + 1, None, f"{counts['sent']} sent, {counts['failed']} failed")

        notify.send_pending(number, include_failed=include_failed, settings=settings, on_result=on_result)
        return f"{counts['sent']} sent, {counts['failed']} failed"

    job = jobs.start("Sending notices", ctx.principal.name, f"/recalls/{number}", work)
    return RedirectResponse(f"/recalls/{number}?job={job.id}#notices", status_code=303)


@router.post("/recalls/{number}/notices/{comm_id}/record")
def record_notice(ctx: Write, number: str, comm_id: str, status: Annotated[str, Form()] = "sent",
                  reference: Annotated[str, Form()] = ""):
    return _do(ctx, number, lambda s: recalls.record_communication(
        s, comm_id, RecordIn(status=status, reference=reference or None)), {"reference": reference},
        to=f"/recalls/{number}#notices")


@router.get("/recalls/{number}/fsma204.{fmt}")
def fsma_export(ctx: Read, number: str, fmt: str):
    if fmt not in ("csv", "xlsx"):
        return Response(f"no FSMA 204 export as {fmt!r}; csv or xlsx", status_code=404, media_type="text/plain")
    with db.read_snapshot() as s:
        done = fsma204_export.export(s, fsma204_export.run_sources(s, number), csv=fmt == "csv",
                                     xlsx=fmt == "xlsx", title=f"FSMA 204 {number}")
    head = {"Content-Disposition": files.content_disposition(files.export_name(number, "fsma204", fmt))}
    if fmt == "csv":
        return Response(done.csv, media_type="text/csv; charset=utf-8", headers=head)
    return Response(done.xlsx, headers=head, media_type=xlsx.MEDIA_TYPE)


@router.get("/recalls/{number}/report.{fmt}")
def report(ctx: Read, number: str, fmt: str):
    if fmt not in ("html", "json"):
        return Response(f"no recall report as {fmt!r}; html or json", status_code=404, media_type="text/plain")
    with db.read_snapshot() as s:
        data = recalls.report_data(s, number)
    if fmt == "html":
        return Response(recall_report.to_html(data), media_type="text/html; charset=utf-8")
    return Response(recall_report.to_json(data), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{number}-report.json"'})
