"""Home: open recalls with progress, lots on hold, lots expiring soon, the latest published KPIs; job progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from lotline import db
from lotline.kpis import service as kpis
from lotline.recalls import service as recalls
from lotline.types import utcnow
from lotline.vocab import KpiRunStatus, RecallStatus
from lotline.web import jobs, queries
from lotline.web.context import Ctx, need

router = APIRouter()
Read = Annotated[Ctx, Depends(need("read"))]
HEADLINE_KPIS = ("fill_rate_line", "fill_rate_order", "inventory_turns", "days_of_supply", "expired_qty")


def open_recalls(s) -> list[dict]:
    """Draft and active cases with their effectiveness figures (few at a time by nature)."""
    cases = [c for c in recalls.list_cases(s, limit=50) if c.status in (RecallStatus.DRAFT, RecallStatus.ACTIVE)]
    return [{"case": c, "eff": recalls.effectiveness(s, c.id)} for c in cases]


@router.get("/")
def home(ctx: Read, days: Annotated[int, Query(ge=1, le=366)] = 30):
    with db.read_snapshot() as s:
        published = kpis.list_runs(s, status=KpiRunStatus.PUBLISHED, limit=1)
        headline = []
        if published:
            headline = [r for r in kpis.snapshots(s, published[0].id, level="overall")]
        return ctx.render(
            "home.html",
            recalls=open_recalls(s),
            on_hold=queries.lots_on_hold(s),
            expiring=queries.lots_expiring(s, utcnow(), days),
            days=days,
            kpi_run=published[0] if published else None,
            headline=headline,
        )


@router.get("/jobs/{job_id}")
def job_progress(ctx: Read, job_id: str):
    job = jobs.get(job_id)
    if job is None:
        return HTMLResponse('<p class="error" role="alert">This job is no longer known (server restarted?). Reload the page.</p>')
    response = ctx.render("partials/job.html", job=job, reloading=job.status != "running")
    if job.status != "running":
        # the page reloads to show the job's result (same URL the user is on)
        response.headers["HX-Refresh"] = "true"
    return response
