"""The web console: server-rendered pages (Jinja2 + htmx) at ``/`` of the same app as the JSON API.

Routes call the same services through the same transaction boundary as the API; no business rule
lives in a route or template. ``install(app)`` mounts the static files, the routes and the
console's error pages (sign-in redirect, 403) — the app registers it with one line.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from lotline.api import problems
from lotline.errors import LotlineError, PermissionDenied, Unauthenticated
from lotline.web import session as web_session
from lotline.web.context import ENV, Ctx
from lotline.web.routes import admin, consignees, home, kpis, lots, recalls, signin, trace

API_PREFIX = "/api/v1"
STATIC = Path(__file__).parent / "static"


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def _domain_error(request: Request, exc: LotlineError):
    """Console pages answer a domain error with a page; the JSON API keeps its problem+json."""
    if request.url.path.startswith(API_PREFIX + "/"):
        return await problems.lotline_error_handler(request, exc)
    if isinstance(exc, Unauthenticated):
        target = "/signin?next=" + quote(request.url.path) if request.method == "GET" else "/signin"
        if _is_htmx(request):
            return HTMLResponse("", status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    title = "Refused" if isinstance(exc, PermissionDenied) else "Not possible"
    ctx = Ctx(request, web_session.optional_principal(request))
    html = ENV.get_template("refused.html").render(ctx=ctx, message=exc.message, title=title)
    return HTMLResponse(html, status_code=problems.status_for(exc))


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.exception_handler(LotlineError)(_domain_error)  # (typed; add_exception_handler wants any Exception)
    for module in (signin, home, lots, trace, consignees, recalls, kpis, admin):
        app.include_router(module.router, include_in_schema=False)
