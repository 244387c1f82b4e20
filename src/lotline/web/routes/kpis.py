"""KPI pages: runs, a run (filter, sort, export CSV, charts), compare two runs, compute (job), publish (signed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from lotline import db
from lotline.errors import LotlineError
from lotline.kpis import service as kpis
from lotline.kpis.schemas import KPIS, LEVELS, RunIn
from lotline.serialize import to_jsonable
from lotline.types import utcnow
from lotline.web import jobs
from lotline.web import session as web_session
from lotline.web.context import FORM_ERROR, Ctx, FormErrors, Page, need, utc_text

router = APIRouter()
Read = Annotated[Ctx, Depends(need("read"))]
SORTS = {"kpi": lambda r: (r.kpi_name, r.label), "value": lambda r: (r.value is None, r.value or 0),
         "-value": lambda r: (r.value is None, -(r.value or 0))}


def _runs_page(ctx: Ctx, *, status: str = "", errors=None, form=None, status_code=200, job_id: str = ""):
    page = Page(ctx.request, 50)
    now = utcnow().replace(microsecond=0, second=0)
    default = form or {"window_start": (now - timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"),
                       "window_end": now.strftime("%Y-%m-%dT%H:%M"), "notes": ""}
    job = jobs.get(job_id) if job_id else None  # before the data (see recalls._room)
    with db.read_snapshot() as s:
        runs = [kpis.run_row(r) for r in kpis.list_runs(s, status=status or None, limit=500)]
    page.total = len(runs)
    return ctx.render("kpi_runs.html", status_code=status_code, runs=runs[page.offset:page.offset + page.size],
                      page=page, status=status, errors=errors or {}, form=default,
                      job=job)


@router.get("/kpi")
def runs(ctx: Read, status: str = "", job: str = ""):
    return _runs_page(ctx, status=status, job_id=job)


@router.post("/kpi/runs")
def compute(ctx: Annotated[Ctx, Depends(need("kpi.run"))], window_start: Annotated[str, Form()] = "",
            window_end: Annotated[str, Form()] = "", notes: Annotated[str, Form()] = ""):
    form = {"window_start": window_start, "window_end": window_end, "notes": notes}
    try:
        data = RunIn(window_start=utc_text(window_start), window_end=utc_text(window_end), notes=notes or None)
        with db.transaction() as s:
            run_id = kpis.create_run(s, data).id
    except (LotlineError, ValidationError) as exc:
        return _runs_page(ctx, errors=FormErrors.of(exc, {"window_start": "window_start", "window_end": "window_end"}),
                          form=form, status_code=FORM_ERROR)

    def work(job: jobs.Job) -> str:
        def progress(label: str, done: int, total: int) -> None:
            job.progress(done, total, label)

        with db.transaction(isolation="REPEATABLE READ") as s:
            kpis.compute_run(s, run_id, progress=progress)
        return "computed"

    job = jobs.start("KPI run", ctx.principal.name, f"/kpi/runs/{run_id}", work)
    return RedirectResponse(f"/kpi/runs/{run_id}?job={job.id}", status_code=303)


def _filters(s, kpi: str, level: str, item: str, location: str, customer: str) -> dict:
    dims = kpis.dimensions_for(s, item=item or None, location=location or None, customer=customer or None)
    return {"kpi": kpi or None, "level": level or None, "dimensions": dims or None}


def _run_page(ctx: Ctx, run_id: str, *, errors=None, status_code=200, job_id: str = ""):
    q = ctx.request.query_params
    kpi, level = q.get("kpi", ""), q.get("level", "overall")
    item, location, customer, sort = q.get("item", ""), q.get("location", ""), q.get("customer", ""), q.get("sort", "kpi")
    page = Page(ctx.request, 100)
    filter_error = None
    job = jobs.get(job_id) if job_id else None  # before the data (see recalls._room)
    with db.read_snapshot() as s:
        run = kpis.run_row(kpis.get_run(s, run_id))
        try:
            rows = kpis.snapshots(s, run["id"], **_filters(s, kpi, level, item, location, customer))
        except LotlineError as exc:
            rows, filter_error = [], exc.message
    rows.sort(key=SORTS.get(sort, SORTS["kpi"]))
    page.total = len(rows)
    return ctx.render("kpi_run.html", status_code=status_code, run=run, rows=rows[page.offset:page.offset + page.size],
                      page=page, kpi=kpi, level=level, item=item, location=location, customer=customer, sort=sort,
                      kpi_names=sorted(KPIS), levels=list(LEVELS), filter_error=filter_error, errors=errors or {},
                      job=job)


@router.get("/kpi/runs/{run_id}")
def run_page(ctx: Read, run_id: str, job: str = ""):
    return _run_page(ctx, run_id, job_id=job)


@router.get("/kpi/runs/{run_id}/export.csv")
def export_csv(ctx: Read, run_id: str):
    with db.read_snapshot() as s:
        rid = kpis.get_run(s, run_id).id
        text = kpis.to_csv(rid, kpis.snapshots(s, rid))
    return Response(text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="kpi-{rid}.csv"'})


@router.get("/kpi/runs/{run_id}/bars.json")
def bars(ctx: Read, run_id: str, kpi: str, by: str = "item", top: int = 20):
    """Top-N values of one KPI across a dimension (Chart.js bar data)."""
    if by not in ("item", "location", "customer"):
        return JSONResponse({"error": f"by must be item, location or customer, not {by!r}"}, status_code=FORM_ERROR)
    with db.read_snapshot() as s:
        valued = [(r.value, r) for r in kpis.snapshots(s, run_id, kpi=kpi, level=by) if r.value is not None]
    valued.sort(key=lambda vr: -vr[0])
    valued = valued[: max(1, min(top, 100))]
    return JSONResponse({"labels": [r.label for _, r in valued], "values": [float(v) for v, _ in valued],
                         "units": valued[0][1].units if valued else ""})


@router.get("/kpi/series.json")
def series(ctx: Read, kpi: str):
    """One KPI (overall) across published runs (Chart.js line data)."""
    with db.read_snapshot() as s:
        points = kpis.time_series(s, kpi)
    return JSONResponse({"labels": [p.window_end.strftime("%Y-%m-%d") for p in points],
                         "values": [None if p.value is None else float(p.value) for p in points],
                         "units": points[0].units if points else ""})


@router.post("/kpi/runs/{run_id}/publish")
def publish(ctx: Annotated[Ctx, Depends(need("kpi.run"))], run_id: str, sig_password: Annotated[str, Form()] = "",
            sig_meaning: Annotated[str, Form()] = "approved"):
    try:
        with db.transaction() as s:
            # the service checks the password again and records the signature with the change
            kpis.publish_run(s, run_id, web_session.signature_of(sig_password, sig_meaning))
    except web_session.SignatureRefused as exc:
        return _run_page(ctx, run_id, errors=FormErrors({"sig_password": exc.message}), status_code=FORM_ERROR)
    except LotlineError as exc:
        return _run_page(ctx, run_id, errors=FormErrors.of(exc), status_code=FORM_ERROR)
    return RedirectResponse(f"/kpi/runs/{run_id}", status_code=303)


@router.get("/kpi/compare")
def compare(ctx: Read, a: str = "", b: str = "", kpi: str = "", level: str = "overall"):
    rows, error = [], None
    with db.read_snapshot() as s:
        runs = [kpis.run_row(r) for r in kpis.list_runs(s, limit=200)]
        if a and b:
            try:
                rows = kpis.compare(s, a, b, kpi=kpi or None, level=level or None)
            except LotlineError as exc:
                error = exc.message
    page = Page(ctx.request, 200, total=len(rows))
    return ctx.render("kpi_compare.html", runs=runs, a=a, b=b, kpi=kpi, level=level, kpi_names=sorted(KPIS),
                      levels=list(LEVELS), rows=rows[page.offset:page.offset + page.size], page=page, error=error,
                      jsonable=to_jsonable)
