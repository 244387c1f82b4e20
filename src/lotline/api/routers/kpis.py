"""KPI endpoints under /kpi: runs (create+compute, publish, archive), snapshots, compare, series,
CSV export, SVG charts and the KPI catalogue.

Dimension filters are query parameters: ``item`` / ``location`` / ``customer`` (natural key or
UUID) and ``level`` (overall | item | location | item_location | customer).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import StringConstraints

from lotline.api import pagination
from lotline.api.deps import ReadSession, SnapshotWriteSession, WriteSession, require
from lotline.api.kpi_schemas import (
    ComparisonOut,
    KpiDefinition,
    KpiRunDetail,
    KpiRunOut,
    SeriesPointOut,
    SnapshotOut,
)
from lotline.api.pagination import PAGED, CursorQ, LimitQ, Page
from lotline.auth import signatures
from lotline.auth.schemas import SignatureIn
from lotline.db.pages import Page as KeyPage
from lotline.kpis import queries, service
from lotline.kpis.runs import TRANSITIONS
from lotline.kpis.schemas import KPIS, LEVELS, RunIn
from lotline.serialize import to_jsonable

router = APIRouter(prefix="/kpi", tags=["kpis"])


def _one_of(names) -> str:
    return "^(?:" + "|".join(re.escape(n) for n in names) + ")$"


# the catalogue's names in the schema, so a request the schema allows names a real KPI / level
KpiName = Annotated[str, StringConstraints(pattern=_one_of(KPIS))]
LevelName = Annotated[str, StringConstraints(pattern=_one_of(LEVELS))]
RunStatus = Annotated[str, StringConstraints(pattern=_one_of(TRANSITIONS))]


def _dims(session, item, location, customer) -> dict:
    return service.dimensions_for(session, item=item, location=location, customer=customer)


@router.get("/definitions", dependencies=[require("read")], response_model=list[KpiDefinition])
def definitions() -> list[dict]:
    """The KPI catalogue (names, dimension levels, units, numerator, denominator)."""
    return [to_jsonable(k) for k in KPIS.values()]


@router.post("/runs", status_code=status.HTTP_201_CREATED, dependencies=[require("kpi.run")], response_model=KpiRunOut)
def create_run(data: RunIn, session: SnapshotWriteSession, publish: bool = False) -> dict:
    """Create and compute a run for [window_start, window_end) as of ``as_of`` (default now)."""
    run = service.run_kpis(session, data)
    if publish:
        service.publish_run(session, run.id, data.signature)
    return to_jsonable(service.run_row(run))


@router.get("/runs", dependencies=[require("read")], response_model=Page[KpiRunOut], responses=PAGED)
def list_runs(
    request: Request,
    response: Response,
    session: ReadSession,
    status_: RunStatus | None = Query(None, alias="status"),
    include_archived: bool = False,
    limit: LimitQ = pagination.DEFAULT_LIMIT,
    cursor: CursorQ = None,
) -> dict:
    """Runs, newest first; archived runs only when asked for (or when filtering on archived)."""
    page = queries.runs_page(session, status=status_, include_archived=include_archived,
                             after=pagination.decode("kpi-runs", cursor), limit=limit)
    return pagination.respond(request, response, "kpi-runs", [to_jsonable(service.run_row(r[0])) for r in page.rows],
                              page)


@router.get("/runs/{run_id}", dependencies=[require("read")], response_model=KpiRunDetail)
def get_run(run_id: str, session: ReadSession) -> dict:
    run = service.get_run(session, run_id)
    return to_jsonable({**service.run_row(run), "signatures": signatures.signatures_of(session, "kpi_runs", run.id)})


@router.post("/runs/{run_id}/publish", dependencies=[require("kpi.run")], response_model=KpiRunDetail)
def publish_run(run_id: str, session: WriteSession, signature: SignatureIn | None = None) -> dict:
    """computed -> published, signed by the caller (body: password + meaning)."""
    run = service.publish_run(session, run_id, signature)
    return to_jsonable({**service.run_row(run), "signatures": signatures.signatures_of(session, "kpi_runs", run.id)})


@router.post("/runs/{run_id}/archive", dependencies=[require("kpi.run")], response_model=KpiRunOut)
def archive_run(run_id: str, session: WriteSession) -> dict:
    return to_jsonable(service.run_row(service.archive_run(session, run_id)))


@router.get("/runs/{run_id}/snapshots", dependencies=[require("read")], response_model=Page[SnapshotOut],
            responses=PAGED)
def snapshots(
    request: Request,
    response: Response,
    run_id: str,
    session: ReadSession,
    kpi: KpiName | None = None,
    item: str | None = None,
    location: str | None = None,
    customer: str | None = None,
    level: LevelName | None = None,
    limit: LimitQ = pagination.DEFAULT_LIMIT,
    cursor: CursorQ = None,
) -> dict:
    """Snapshots with numerator/denominator by KPI, SKU, location and customer (overall first);
    dimension filters use jsonb containment (GIN)."""
    after = pagination.decode("kpi-snapshots", cursor)
    rows = service.snapshots(
        session,
        run_id,
        kpi=kpi,
        dimensions=_dims(session, item, location, customer),
        level=level,
        limit=limit + 1,
        after=after,
    )
    page = KeyPage(rows[:limit], rows[limit - 1].position if len(rows) > limit else None)
    return pagination.respond(request, response, "kpi-snapshots", [to_jsonable(service.snapshot_row(r)) for r in page.rows],
                              page)


@router.get("/runs/{run_id}/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}},
            dependencies=[require("read")])
def export_csv(
    run_id: str, session: ReadSession, kpi: KpiName | None = None, level: LevelName | None = None
) -> Response:
    run = service.get_run(session, run_id)
    text = service.to_csv(run.id, service.snapshots(session, run.id, kpi=kpi, level=level))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kpi-run-{run.id}.csv"'},
    )


@router.get("/runs/{run_id}/chart.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}},
            dependencies=[require("read")])
def run_chart(
    run_id: str, session: ReadSession, kpi: KpiName, by: LevelName = "item", top: int = Query(20, ge=1, le=500)
) -> Response:
    """Bar chart of one KPI of one run across a dimension level."""
    return Response(service.run_chart(session, run_id, kpi, by=by, top=top), media_type="image/svg+xml")


@router.get("/compare", dependencies=[require("read")], response_model=list[ComparisonOut])
def compare(
    a: str,
    b: str,
    session: ReadSession,
    kpi: KpiName | None = None,
    item: str | None = None,
    location: str | None = None,
    customer: str | None = None,
    level: LevelName | None = "overall",
) -> list[dict]:
    """Two runs side by side (delta = b - a)."""
    rows = service.compare(
        session, a, b, kpi=kpi, dimensions=_dims(session, item, location, customer), level=level
    )
    return [to_jsonable(r) for r in rows]


@router.get("/series/{kpi}", dependencies=[require("read")], response_model=list[SeriesPointOut])
def series(
    kpi: KpiName,
    session: ReadSession,
    item: str | None = None,
    location: str | None = None,
    customer: str | None = None,
) -> list[dict]:
    """One KPI for one exact dimension across published runs."""
    return [
        to_jsonable(p)
        for p in service.time_series(session, kpi, dimensions=_dims(session, item, location, customer))
    ]


@router.get("/series/{kpi}/chart.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}},
            dependencies=[require("read")])
def series_chart(
    kpi: KpiName,
    session: ReadSession,
    item: str | None = None,
    location: str | None = None,
    customer: str | None = None,
) -> Response:
    svg = service.series_chart(session, kpi, dimensions=_dims(session, item, location, customer))
    return Response(svg, media_type="image/svg+xml")
