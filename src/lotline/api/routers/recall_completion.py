"""Running a recall to completion over HTTP: strategy, consignees, responses, effectiveness
checks, status reports, the 7.46 initial report, inbound notices (under /recalls like the rest)."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request, Response, status

from lotline.api import pagination
from lotline.api.deps import CurrentPrincipal, ReadSession, WriteSession, require
from lotline.api.pagination import PAGED, CursorQ, LimitQ, Page
from lotline.api.recall_schemas import (
    CheckOut,
    ConsigneeFigures,
    ConsigneeOut,
    InboundCase,
    InitialReport,
    RecordedResponse,
    ResponseLink,
    ResponseOut,
    StatusReportOut,
    StrategyOut,
)
from lotline.errors import InvalidInput
from lotline.recalls import checks, consignees, inbound, status_reports, strategy
from lotline.recalls import service as recalls
from lotline.recalls.completion_schemas import CheckResultIn, InboundNoticeIn, RecordedResponseIn, StrategyIn
from lotline.reports import initial_report
from lotline.serialize import to_jsonable

router = APIRouter(tags=["recalls"])


@router.put("/recalls/{ref}/strategy", dependencies=[require("recall.write")], response_model=StrategyOut)
def set_strategy(ref: str, data: StrategyIn, session: WriteSession) -> dict:
    """Set or replace the 21 CFR 7.42 strategy (required before activation)."""
    case = recalls.find_case(session, ref, lock="update")
    return to_jsonable(strategy.as_dict(strategy.set_strategy(session, case, data)))


@router.get("/recalls/{ref}/strategy", dependencies=[require("read")], response_model=StrategyOut | None)
def get_strategy(ref: str, session: ReadSession) -> dict | None:
    return to_jsonable(strategy.as_dict(strategy.get(session, recalls.find_case(session, ref))))


@router.get("/recalls/{ref}/consignees", dependencies=[require("read")], response_model=Page[ConsigneeOut],
            responses=PAGED)
def list_consignees(request: Request, response: Response, ref: str, session: ReadSession,
                    include_retired: bool = False, limit: LimitQ = pagination.DEFAULT_LIMIT,
                    cursor: CursorQ = None) -> dict:
    """Consignees by depth and name, each with its latest response, reminders and check."""
    after = pagination.decode("recall-consignees", cursor)
    case = recalls.find_case(session, ref)
    page = consignees.consignees_page(session, case, include_retired=include_retired, after=after, limit=limit)
    return pagination.respond(request, response, "recall-consignees", to_jsonable(page.rows), page)


@router.post("/recalls/{ref}/consignees/{consignee_id}/link", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=ResponseLink)
def issue_link(ref: str, consignee_id: uuid.UUID, session: WriteSession) -> dict:
    """A new personal response link (the token is shown once, only its hash is stored)."""
    case = recalls.find_case(session, ref)
    token = consignees.issue_link(session, case, consignees.find(session, case, consignee_id))
    return {"url": consignees.link_url(token)}


@router.post("/recalls/{ref}/consignees/{consignee_id}/responses", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=RecordedResponse)
def record_response(
    ref: str, consignee_id: uuid.UUID, data: RecordedResponseIn, session: WriteSession, principal: CurrentPrincipal
) -> dict:
    """A response taken by phone, letter, email or portal (append-only)."""
    case = recalls.find_case(session, ref)
    response, added = consignees.record_response(session, case, consignee_id, data, recorded_by=principal.actor)
    return to_jsonable({"response_id": response.id,
                        "new_consignees": [{"id": k.id, "name": k.name, "depth": k.depth} for k in added]})


@router.get("/recalls/{ref}/responses", dependencies=[require("read")], response_model=Page[ResponseOut],
            responses=PAGED)
def list_responses(request: Request, response: Response, ref: str, session: ReadSession,
                   limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    """Consignees' responses, oldest first."""
    after = pagination.decode("recall-responses", cursor)
    case = recalls.find_case(session, ref)
    page = consignees.responses_page(session, case, after=after, limit=limit)
    items = [to_jsonable(consignees.response_dict(r, name)) for r, name in page.rows]
    return pagination.respond(request, response, "recall-responses", items, page)


@router.post("/recalls/{ref}/effectiveness-checks", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=list[CheckOut])
def draw_sample(ref: str, session: WriteSession, seed: int | None = None) -> list[dict]:
    """Draw (once) the consignees an effectiveness check must reach for the strategy's level."""
    return to_jsonable(checks.draw_sample(session, recalls.find_case(session, ref, lock="update"), seed=seed))


@router.get("/recalls/{ref}/effectiveness-checks", dependencies=[require("read")], response_model=Page[CheckOut],
            responses=PAGED)
def list_checks(request: Request, response: Response, ref: str, session: ReadSession,
                limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    """The drawn effectiveness checks by the consignee's depth and name."""
    after = pagination.decode("recall-checks", cursor)
    case = recalls.find_case(session, ref)
    page = checks.checks_page(session, case, after=after, limit=limit)
    items = [to_jsonable(checks.check_dict(c, name, depth)) for c, name, depth in page.rows]
    return pagination.respond(request, response, "recall-checks", items, page)


@router.post("/recalls/{ref}/effectiveness-checks/{check_id}", dependencies=[require("recall.write")],
             response_model=CheckOut)
def record_check(
    ref: str, check_id: uuid.UUID, data: CheckResultIn, session: WriteSession, principal: CurrentPrincipal
) -> dict:
    return to_jsonable(checks.record_check(session, recalls.find_case(session, ref), check_id, data,
                                           checked_by=principal.actor))


@router.get("/recalls/{ref}/consignee-figures", dependencies=[require("read")], response_model=ConsigneeFigures)
def consignee_figures(ref: str, session: ReadSession) -> dict:
    return to_jsonable(checks.consignee_figures(session, recalls.find_case(session, ref)))


@router.post("/recalls/{ref}/status-reports", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=StatusReportOut)
def issue_status_report(ref: str, session: WriteSession, principal: CurrentPrincipal) -> dict:
    case = recalls.find_case(session, ref, lock="update")
    return to_jsonable(status_reports.as_dict(status_reports.issue(session, case, issued_by=principal.actor)))


@router.get("/recalls/{ref}/status-reports", dependencies=[require("read")], response_model=Page[StatusReportOut],
            responses=PAGED)
def list_status_reports(request: Request, response: Response, ref: str, session: ReadSession,
                        limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    """Issued status reports by number."""
    after = pagination.decode("recall-status-reports", cursor)
    case = recalls.find_case(session, ref)
    page = status_reports.reports_page(session, case, after=after, limit=limit)
    items = [to_jsonable(status_reports.as_dict(r[0])) for r in page.rows]
    return pagination.respond(request, response, "recall-status-reports", items, page)


@router.get("/recalls/{ref}/status-reports/{seq}", dependencies=[require("read")], response_model=StatusReportOut)
def get_status_report(ref: str, seq: int, session: ReadSession) -> dict:
    return to_jsonable(status_reports.get(session, recalls.find_case(session, ref), seq))


@router.get("/recalls/{ref}/initial-report", response_class=Response, dependencies=[require("read")],
            responses={200: {"model": InitialReport, "content": {"text/html": {}}}})
def get_initial_report(ref: str, session: ReadSession, format: str = "html") -> Response:
    """The 21 CFR 7.46 initial report (format=html|json)."""
    if format not in ("html", "json"):
        raise InvalidInput(f"format must be html or json, not {format!r}")
    data = initial_report.data(session, recalls.find_case(session, ref))
    if format == "html":
        return Response(initial_report.to_html(data), media_type="text/html; charset=utf-8")

    return Response(json.dumps(to_jsonable(data)), media_type="application/json")


@router.get("/recalls/{ref}/initial-report/accounts.xlsx", response_class=Response,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}}, dependencies=[require("read")])
def get_accounts_xlsx(ref: str, session: ReadSession) -> Response:
    case = recalls.find_case(session, ref)
    data = initial_report.data(session, case)
    return Response(
        initial_report.accounts_xlsx(data),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=\"accounts.xlsx\""},
    )


@router.post("/inbound-recalls", status_code=status.HTTP_201_CREATED, dependencies=[require("recall.write")],
             response_model=InboundCase)
def open_inbound(data: InboundNoticeIn, session: WriteSession) -> dict:
    """A supplier's recall notice: opens a draft case on the matched lots (409 if one already has them)."""
    return to_jsonable(inbound.open_case(session, data))
