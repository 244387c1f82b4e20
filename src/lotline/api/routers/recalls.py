"""Recall endpoints: /recalls (cases, targets, runs, actions, notices, exports, report)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from lotline.api import pagination
from lotline.api.deps import ReadSession, WriteSession, require
from lotline.api.pagination import PAGED, CursorQ, LimitQ, Page
from lotline.api.recall_schemas import (
    ActionOut,
    Effectiveness,
    NoticeOut,
    Planned,
    RecallCaseDetail,
    RecallReport,
    RunDiff,
    RunOut,
    RunRow,
    SendResultOut,
    TargetOut,
)
from lotline.api.schemas import RecallCaseOut
from lotline.errors import NotFound
from lotline.recalls import actions, cases, communications, runs, service
from lotline.recalls.flows import notify
from lotline.recalls.schemas import (
    ActionIn,
    ActionRun,
    CaseIn,
    CaseUpdate,
    DraftIn,
    RecordIn,
    RunIn,
    TargetIn,
    TransitionIn,
)
from lotline.reports import files, recall_report
from lotline.reports import fsma204_export as fsma_export
from lotline.serialize import to_jsonable
from lotline.types import Reason
from lotline.vocab import ActionStatus, NoticeStatus

router = APIRouter(tags=["recalls"])
CaseStatus = Literal["draft", "active", "closed", "canceled"]


def _rows(page) -> list[dict]:
    return [to_jsonable(dict(r._mapping)) for r in page.rows]


def _case(case) -> dict:
    return to_jsonable(service.case_dict(case))


def _action(session, action) -> dict:
    case = service.find_case(session, action.recall_case_id)
    return to_jsonable(next(a for a in service.list_actions(session, case) if a["id"] == action.id))


def _comm(session, comm) -> dict:
    case = service.find_case(session, comm.recall_case_id)
    return to_jsonable(next(c for c in service.list_communications(session, case) if c["id"] == comm.id))


@router.post("/recalls", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=RecallCaseOut)
def create_case(data: CaseIn, session: WriteSession) -> dict:
    return _case(service.create_case(session, data))


@router.get("/recalls", dependencies=[require("read")], response_model=Page[RecallCaseOut], responses=PAGED)
def list_cases(request: Request, response: Response, session: ReadSession, status: CaseStatus | None = None,
               limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    """Recall cases, newest first."""
    page = service.cases_page(session, status=status, limit=limit, after=pagination.decode("recalls", cursor))
    return pagination.respond(request, response, "recalls", [_case(r[0]) for r in page.rows], page)


@router.get("/recalls/{ref}", dependencies=[require("read")], response_model=RecallCaseDetail)
def get_case(ref: str, session: ReadSession) -> dict:
    case = service.find_case(session, ref)
    return to_jsonable(
        {
            **service.case_dict(case),
            "targets": service.list_targets(session, case),
            "trace_runs": service.list_runs(session, case),
        }
    )


@router.patch("/recalls/{ref}", dependencies=[require("recall.write")], response_model=RecallCaseOut)
def update_case(ref: str, data: CaseUpdate, session: WriteSession) -> dict:
    return _case(service.update_case(session, ref, data))


@router.post("/recalls/{ref}/activate", dependencies=[require("recall.write")], response_model=RecallCaseOut)
def activate(ref: str, session: WriteSession, data: TransitionIn | None = None) -> dict:
    return _case(service.activate(session, ref, data))


@router.post("/recalls/{ref}/close", dependencies=[require("recall.write")], response_model=RecallCaseOut)
def close(ref: str, session: WriteSession, data: TransitionIn | None = None) -> dict:
    return _case(service.close(session, ref, data))


@router.post("/recalls/{ref}/cancel", dependencies=[require("recall.write")], response_model=RecallCaseOut)
def cancel(ref: str, session: WriteSession, data: TransitionIn | None = None) -> dict:
    return _case(service.cancel(session, ref, data))


@router.get("/recalls/{ref}/targets", dependencies=[require("read")], response_model=Page[TargetOut], responses=PAGED)
def list_targets(request: Request, response: Response, ref: str, session: ReadSession,
                 limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    """The case's targets, oldest first."""
    after = pagination.decode("recall-targets", cursor)
    case = service.find_case(session, ref)
    page = cases.targets_page(session, case, after=after, limit=limit)
    return pagination.respond(request, response, "recall-targets", _rows(page), page)


@router.post("/recalls/{ref}/targets", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=TargetOut)
def add_target(ref: str, data: TargetIn, session: WriteSession) -> dict:
    target = service.add_target(session, ref, data)
    rows = service.list_targets(session, service.find_case(session, ref))
    return to_jsonable(next(t for t in rows if t["id"] == target.id))


@router.delete("/recalls/{ref}/targets/{target_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[require("recall.write")])
def remove_target(
    ref: str,
    target_id: uuid.UUID,
    session: WriteSession,
    reason: Reason = Query(description="Why (kept in the audit trail)"),
) -> Response:
    service.remove_target(session, ref, target_id, reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _run(session, run) -> dict:
    return to_jsonable(
        {
            "id": run.id,
            "recall_case_id": run.recall_case_id,
            "status": run.status,
            "as_of": run.as_of,
            "computed_at": run.computed_at,
            "notes": run.notes,
            "impacted_lots": service.run_lots(session, run.id),
            "impacted_shipments": service.run_shipments(session, run.id),
        }
    )


@router.post("/recalls/{ref}/runs", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=RunOut)
def compute_run(ref: str, session: WriteSession, data: RunIn | None = None) -> dict:
    return _run(session, service.compute_run(session, ref, data))


@router.get("/recalls/{ref}/runs", dependencies=[require("read")], response_model=Page[RunRow], responses=PAGED)
def list_runs(request: Request, response: Response, ref: str, session: ReadSession,
              limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    """The case's trace runs with their counts, oldest first."""
    after = pagination.decode("recall-runs", cursor)
    case = service.find_case(session, ref)
    page = runs.runs_page(session, case, after=after, limit=limit)
    return pagination.respond(request, response, "recall-runs", _rows(page), page)


@router.get("/recalls/{ref}/runs/{run_id}", dependencies=[require("read")], response_model=RunOut)
def get_run(ref: str, run_id: str, session: ReadSession) -> dict:
    case = service.find_case(session, ref)
    run = service.latest_run(session, case) if run_id == "latest" else service.find_run(session, run_id, case)
    return _run(session, run)


@router.get("/recalls/{ref}/runs/{old_id}/diff/{new_id}", dependencies=[require("read")], response_model=RunDiff)
def diff_runs(ref: str, old_id: uuid.UUID, new_id: uuid.UUID, session: ReadSession) -> dict:
    case = service.find_case(session, ref)
    service.find_run(session, old_id, case)
    service.find_run(session, new_id, case)
    return to_jsonable(service.diff_runs(session, old_id, new_id))


@router.get("/recalls/{ref}/actions", dependencies=[require("read")], response_model=Page[ActionOut], responses=PAGED)
def list_actions(request: Request, response: Response, ref: str, session: ReadSession,
                 status: ActionStatus | None = None, limit: LimitQ = pagination.DEFAULT_LIMIT,
                 cursor: CursorQ = None) -> dict:
    """The case's actions in planning order."""
    after = pagination.decode("recall-actions", cursor)
    case = service.find_case(session, ref)
    page = actions.actions_page(session, case, status=status, after=after, limit=limit)
    return pagination.respond(request, response, "recall-actions", _rows(page), page)


@router.post("/recalls/{ref}/actions", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=ActionOut)
def plan_action(ref: str, data: ActionIn, session: WriteSession) -> dict:
    return _action(session, service.plan_action(session, ref, data))


@router.post("/recalls/{ref}/actions/plan-all", dependencies=[require("recall.write")], response_model=Planned)
def plan_all(ref: str, session: WriteSession) -> dict:
    return {"planned": service.plan_all(session, ref)}


@router.post("/recall-actions/{action_id}/start", dependencies=[require("recall.write")], response_model=ActionOut)
def start_action(action_id: str, session: WriteSession) -> dict:
    return _action(session, service.start_action(session, action_id))


@router.post("/recall-actions/{action_id}/run", dependencies=[require("recall.write")], response_model=ActionOut)
def run_action(action_id: str, session: WriteSession, data: ActionRun | None = None) -> dict:
    return _action(session, service.run_action(session, action_id, data))


@router.post("/recall-actions/{action_id}/cancel", dependencies=[require("recall.write")], response_model=ActionOut)
def cancel_action(action_id: str, session: WriteSession, data: TransitionIn | None = None) -> dict:
    return _action(session, service.cancel_action(session, action_id, data.reason if data else None))


@router.get("/recalls/{ref}/communications", dependencies=[require("read")], response_model=Page[NoticeOut],
            responses=PAGED)
def list_communications(request: Request, response: Response, ref: str, session: ReadSession,
                        status: NoticeStatus | None = None, limit: LimitQ = pagination.DEFAULT_LIMIT,
                        cursor: CursorQ = None) -> dict:
    """The case's notices by customer code and channel."""
    after = pagination.decode("recall-notices", cursor)
    case = service.find_case(session, ref)
    page = communications.communications_page(session, case, status=status, after=after, limit=limit)
    return pagination.respond(request, response, "recall-notices", _rows(page), page)


@router.post("/recalls/{ref}/communications", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=list[NoticeOut])
def draft_communications(ref: str, data: DraftIn, session: WriteSession) -> list[dict]:
    return [_comm(session, c) for c in service.draft_communications(session, ref, data)]


@router.post("/recall-communications/{comm_id}/record", dependencies=[require("recall.write")],
             response_model=NoticeOut)
def record_communication(comm_id: str, data: RecordIn, session: WriteSession) -> dict:
    return _comm(session, service.record_communication(session, comm_id, data))


# Sending runs its own short transactions around the SMTP conversation (see recalls/notify.py).
@router.post("/recall-communications/{comm_id}/send", dependencies=[require("recall.write")],
             response_model=SendResultOut)
async def send_communication(comm_id: str, force: bool = False) -> dict:
    return to_jsonable(await run_in_threadpool(notify.send_email, comm_id, force=force))


@router.post("/recalls/{ref}/communications/send", dependencies=[require("recall.write")],
             response_model=list[SendResultOut])
async def send_pending(ref: str, include_failed: bool = False) -> list[dict]:
    return to_jsonable(await run_in_threadpool(notify.send_pending, ref, include_failed=include_failed))


@router.get("/recalls/{ref}/effectiveness", dependencies=[require("read")], response_model=Effectiveness)
def effectiveness(ref: str, session: ReadSession) -> dict:
    return to_jsonable(service.effectiveness(session, ref))


@router.get("/recalls/{ref}/fsma204.{fmt}", response_class=Response, dependencies=[require("read")],
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def fsma204_export(ref: str, fmt: str, session: ReadSession, run: str | None = None) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise NotFound(f"no FSMA 204 export in format {fmt!r}; use .csv or .xlsx")
    number = service.find_case(session, ref).recall_number
    done = fsma_export.export(session, fsma_export.run_sources(session, ref, run), csv=fmt == "csv",
                              xlsx=fmt == "xlsx", title=f"FSMA 204 {number}")
    disposition = {"Content-Disposition": files.content_disposition(files.export_name(number, "fsma204", fmt))}
    if fmt == "csv":
        return Response(done.csv, media_type="text/csv; charset=utf-8", headers=disposition)
    return Response(
        done.xlsx,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=disposition,
    )


@router.get("/recalls/{ref}/report.{fmt}", response_class=Response, dependencies=[require("read")],
            responses={200: {"model": RecallReport, "content": {"text/html": {}}}})
def report(ref: str, fmt: str, session: ReadSession) -> Response:
    if fmt not in ("html", "json"):
        raise NotFound(f"no recall report in format {fmt!r}; use .html or .json")
    data = service.report_data(session, ref)
    if fmt == "html":
        return Response(recall_report.to_html(data), media_type="text/html; charset=utf-8")
    return Response(recall_report.to_json(data), media_type="application/json")
