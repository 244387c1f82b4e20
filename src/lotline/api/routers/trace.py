"""Trace endpoints: /trace/{direction}/{lot} as JSON, CSV or SVG; POST /trace for several lots."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import Field

from lotline.api.deps import ReadSession, require
from lotline.trace import service as trace_service
from lotline.trace.export import write_csv
from lotline.trace.svg import render_svg
from lotline.trace.validate import MAX_DEPTH_LIMIT
from lotline.types import AsOf, Input

router = APIRouter(prefix="/trace", tags=["trace"])

DirectionParam = Literal["forward", "backward", "both"]


class TraceIn(Input):
    lot_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)]
    direction: DirectionParam = "both"
    as_of: AsOf | None = None
    max_depth: Annotated[int | None, Field(ge=0, le=MAX_DEPTH_LIMIT)] = None
    with_stock: bool = True


def _run(
    session,
    direction: str,
    lot: str,
    item: str | None,
    as_of: datetime | None,
    max_depth: int | None,
    with_stock: bool = True,
):
    when = trace_service.validate_as_of(as_of)
    start = trace_service.resolve_lot(session, lot, item=item)
    return trace_service.trace(session, [start.id], direction, when, max_depth, with_stock=with_stock)


ItemQ = Annotated[str | None, Query(description="Item SKU when the lot code is used by several items.")]
AsOfQ = Annotated[AsOf | None, Query(description="ISO 8601 time or date; only what happened up to then counts.")]
DepthQ = Annotated[int | None, Query(ge=0, le=MAX_DEPTH_LIMIT, description="Stop after this many hops (0 or more).")]


@router.get("/{direction}/{lot}", dependencies=[require("read")])
def trace_lot(
    direction: DirectionParam,
    lot: str,
    session: ReadSession,
    item: ItemQ = None,
    as_of: AsOfQ = None,
    max_depth: DepthQ = None,
    with_stock: Annotated[bool, Query(description="Include receipts, on-hand and mass balance.")] = True,
) -> dict:
    """The trace document: lots (role, depth), edges, shipments with customers, receipts, on-hand,
    mass balance, cycles."""
    return _run(session, direction, lot, item, as_of, max_depth, with_stock).to_json()


@router.get(
    "/{direction}/{lot}/svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}}, dependencies=[require("read")]
)
def trace_svg(
    direction: DirectionParam,
    lot: str,
    session: ReadSession,
    item: ItemQ = None,
    as_of: AsOfQ = None,
    max_depth: DepthQ = None,
) -> Response:
    """The genealogy as an SVG graph."""
    result = _run(session, direction, lot, item, as_of, max_depth)
    return Response(render_svg(result), media_type="image/svg+xml")


@router.get("/{direction}/{lot}/csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}}, dependencies=[require("read")])
def trace_csv(
    direction: DirectionParam,
    lot: str,
    session: ReadSession,
    item: ItemQ = None,
    as_of: AsOfQ = None,
    max_depth: DepthQ = None,
) -> Response:
    """One sortable CSV sheet: lots, edges, shipments, receipts/returns, on-hand."""
    result = _run(session, direction, lot, item, as_of, max_depth)
    buf = io.StringIO()
    write_csv(result, buf)
    return Response(buf.getvalue(), media_type="text/csv")


@router.post("", dependencies=[require("read")])
def trace_many(data: TraceIn, session: ReadSession) -> dict:
    """Trace several lots at once (e.g. every target of a recall) by id."""
    when = trace_service.validate_as_of(data.as_of)
    return trace_service.trace(
        session, data.lot_ids, data.direction, when, data.max_depth, with_stock=data.with_stock
    ).to_json()
