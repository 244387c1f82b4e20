"""Trace endpoints: /trace/{direction}/{lot} as JSON, CSV or SVG; POST /trace for several lots.

The hot read path of the API. Each route is ``async`` and does its work — the credential, the
permission, the read snapshot, the trace and its rendering — in one worker thread
(``deps.Reader``), then answers with the body already encoded: the JSON document is rendered
once from the result (``api/trace_document.py``), not built as a dict, validated and re-encoded
by FastAPI. ``response_model`` still documents it in the OpenAPI (``TraceDocument``), and the
tests hold the body to that model.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy.orm import Session

from lotline.api.deps import Reader, reader
from lotline.api.trace_document import TraceDocument, render
from lotline.catalog.service import as_uuid
from lotline.errors import NotFound
from lotline.trace import service as trace_service
from lotline.trace.export import write_csv
from lotline.trace.model import TraceResult
from lotline.trace.svg import render_svg
from lotline.trace.validate import MAX_DEPTH_LIMIT
from lotline.types import AsOf, Input

router = APIRouter(prefix="/trace", tags=["trace"])

DirectionParam = Literal["forward", "backward", "both"]
JSON = "application/json"


class TraceIn(Input):
    lot_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)]
    direction: DirectionParam = "both"
    as_of: AsOf | None = None
    max_depth: Annotated[int | None, Field(ge=0, le=MAX_DEPTH_LIMIT)] = None
    with_stock: bool = True


def _trace_lot(
    session: Session,
    direction: str,
    lot: str,
    item: str | None,
    as_of: datetime | None,
    max_depth: int | None,
    with_stock: bool = True,
) -> TraceResult:
    when = trace_service.validate_as_of(as_of)
    lot_id = as_uuid(lot) if item is None else None
    if lot_id is not None:
        # The usual request names the lot by id. The trace checks that its start lots exist
        # anyway, so it is asked at once instead of after an ORM load of the lot (``resolve_lot``:
        # a round trip and ~0.5 ms of CPU a request, measured). An id that is no lot's may still be
        # a lot code that looks like one: ``resolve_lot`` then decides, with its own answer and
        # error, exactly as before. The trace's check comes before any of its work, in this
        # read-only snapshot, so nothing is left half done.
        try:
            return trace_service.trace(session, [lot_id], direction, when, max_depth, with_stock=with_stock)
        except NotFound as exc:
            if exc.details.get("kind") != "lot" or exc.details.get("ref") != str(lot_id):
                raise
    start = trace_service.resolve_lot(session, lot, item=item)
    return trace_service.trace(session, [start.id], direction, when, max_depth, with_stock=with_stock)


def _json(session: Session, *args) -> bytes:
    return render(_trace_lot(session, *args))


def _svg(session: Session, *args) -> str:
    return render_svg(_trace_lot(session, *args))


def _csv(session: Session, *args) -> str:
    buf = io.StringIO()
    write_csv(_trace_lot(session, *args), buf)
    return buf.getvalue()


def _many(session: Session, data: TraceIn) -> bytes:
    when = trace_service.validate_as_of(data.as_of)
    return render(trace_service.trace(
        session, data.lot_ids, data.direction, when, data.max_depth, with_stock=data.with_stock
    ))


ItemQ = Annotated[str | None, Query(description="Item SKU when the lot code is used by several items.")]
AsOfQ = Annotated[AsOf | None, Query(description="ISO 8601 time or date; only what happened up to then counts.")]
DepthQ = Annotated[int | None, Query(ge=0, le=MAX_DEPTH_LIMIT, description="Stop after this many hops (0 or more).")]
Read = Annotated[Reader, reader("read")]


@router.get("/{direction}/{lot}", response_model=TraceDocument)
async def trace_lot(
    direction: DirectionParam,
    lot: str,
    read: Read,
    item: ItemQ = None,
    as_of: AsOfQ = None,
    max_depth: DepthQ = None,
    with_stock: Annotated[bool, Query(description="Include receipts, on-hand and mass balance.")] = True,
) -> Response:
    """The trace document: lots (role, depth), edges, shipments with customers, receipts, on-hand,
    mass balance, cycles."""
    return Response(await read(_json, direction, lot, item, as_of, max_depth, with_stock), media_type=JSON)


@router.get("/{direction}/{lot}/svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
async def trace_svg(
    direction: DirectionParam,
    lot: str,
    read: Read,
    item: ItemQ = None,
    as_of: AsOfQ = None,
    max_depth: DepthQ = None,
) -> Response:
    """The genealogy as an SVG graph."""
    return Response(await read(_svg, direction, lot, item, as_of, max_depth), media_type="image/svg+xml")


@router.get("/{direction}/{lot}/csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def trace_csv(
    direction: DirectionParam,
    lot: str,
    read: Read,
    item: ItemQ = None,
    as_of: AsOfQ = None,
    max_depth: DepthQ = None,
) -> Response:
    """One sortable CSV sheet: lots, edges, shipments, receipts/returns, on-hand."""
    return Response(await read(_csv, direction, lot, item, as_of, max_depth), media_type="text/csv")


@router.post("", response_model=TraceDocument)
async def trace_many(data: TraceIn, read: Read) -> Response:
    """Trace several lots at once (e.g. every target of a recall) by id."""
    return Response(await read(_many, data), media_type=JSON)
