"""EPCIS 2.0 endpoints (REST binding style): capture jobs, event queries, trace/recall export.

POST /epcis/capture takes an EPCIS document as the body (streamed to a temporary file, never held whole),
runs the capture flow and answers 202 with the job and a Location to read it back; the flow opens its own
transactions, so this route takes no request session.
"""

from __future__ import annotations

import tempfile
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import StringConstraints

from lotline.api.deps import ReadSession, require
from lotline.api.epcis_schemas import CaptureAnswer, CaptureJob, EpcisDocument, EpcisQueryDocument
from lotline.epcis import capture, export, query
from lotline.epcis.validate import STANDARD_EVENT_TYPES
from lotline.errors import InvalidInput
from lotline.serialize import to_jsonable
from lotline.trace import service as trace_service
from lotline.types import AsOf, Timestamp

router = APIRouter(prefix="/epcis", tags=["epcis"])
Identifier = Annotated[str, StringConstraints(min_length=1)]
# a standard event type or an extension (a URI: anything with a colon), as epcis/query.py checks
EventType = Annotated[str, StringConstraints(pattern=r"^(?:" + "|".join(STANDARD_EVENT_TYPES) + r"|[\s\S]*:[\s\S]*)$")]
SPOOL = 8 << 20


def _job_body(job: capture.Job) -> dict:
    return to_jsonable({"id": job.id, "status": job.status, "atomic": job.atomic, "events_total": job.events_total,
                        **job.counts, "error": job.error,
                        "refusals": [r.__dict__ for r in job.refusals[:1000]]})


# Capture posts stock, production and shipments (and the lot status its dispositions carry): the
# operator's "stock.post" permission.
@router.post("/capture", status_code=status.HTTP_202_ACCEPTED, dependencies=[require("stock.post")],
             response_model=CaptureAnswer,
             responses={202: {"headers": {"Location": {"description": "The job's URL", "schema": {"type": "string"}}}}})
async def capture_document(
    request: Request,
    atomic: Annotated[bool, Query(description="All or nothing: one refused event posts nothing.")] = False,
    create_master_data: Annotated[bool, Query(description="Create unknown items, locations and parties.")] = False,
) -> JSONResponse:
    """Capture one EPCIS 2.0 JSON document; the answer is the finished job (read it back at Location)."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        async for chunk in request.stream():
            spool.write(chunk)

        def source():
            spool.seek(0)
            return _NoClose(spool)

        job = await run_in_threadpool(capture.capture, source, atomic=atomic, create_master_data=create_master_data,
                                      name="POST /epcis/capture")
    return JSONResponse(_job_body(job), status_code=status.HTTP_202_ACCEPTED,
                        headers={"Location": f"{request.url.path.rstrip('/')}/{job.id}"})


class _NoClose:
    """The spooled body reopened for each pass of the capture flow (closing it would lose it)."""

    def __init__(self, f):
        self.f = f

    def read(self, *a):
        return self.f.read(*a)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@router.get("/capture/{job_id}", dependencies=[require("read")], response_model=CaptureJob)
def get_capture(job_id: uuid.UUID, session: ReadSession) -> dict:
    """A capture job: status, counters and per-event results in document order."""
    return to_jsonable(capture.get_job(session, job_id))


@router.get("/events", dependencies=[require("read")], response_model=EpcisQueryDocument)
def get_events(
    session: ReadSession,
    eventType: Annotated[list[EventType] | None, Query()] = None,  # noqa: N803 - EPCIS parameter names
    GE_eventTime: Timestamp | None = None,  # noqa: N803
    LT_eventTime: Timestamp | None = None,  # noqa: N803
    MATCH_anyEPCClass: Annotated[list[Identifier] | None, Query()] = None,  # noqa: N803
    EQ_bizStep: Annotated[list[str] | None, Query()] = None,  # noqa: N803
    EQ_disposition: Annotated[list[str] | None, Query()] = None,  # noqa: N803
    lot: str | None = None,
    item: str | None = None,
    limit: Annotated[int, Query(ge=1, le=query.MAX_LIMIT)] = 1000,
) -> dict:
    """Captured events (EPCIS SimpleEventQuery parameters) as an EPCIS query document."""
    return query.events(session, event_types=eventType or (), ge_event_time=GE_eventTime, lt_event_time=LT_eventTime,
                        any_epc_class=MATCH_anyEPCClass or (), biz_step=EQ_bizStep or (),
                        disposition=EQ_disposition or (), lot=lot, item=item, limit=limit)


@router.get("/export", dependencies=[require("read")], response_model=EpcisDocument)
def get_export(
    session: ReadSession,
    lot: str | None = None,
    item: str | None = None,
    direction: Literal["forward", "backward", "both"] = "forward",
    as_of: AsOf | None = None,
    recall: str | None = None,
    digital_link: bool = False,
) -> dict:
    """A trace (``lot``) or a recall's trace run (``recall``) as one EPCIS 2.0 document."""
    if recall is not None and lot is None:
        return export.export_recall(session, recall, digital_link=digital_link)
    if lot is not None and recall is None:
        start = trace_service.resolve_lot(session, lot, item=item)
        return export.export_lots(session, [start.id], direction, trace_service.validate_as_of(as_of), digital_link=digital_link)
    raise InvalidInput("give exactly one of lot and recall")
