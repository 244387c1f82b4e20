"""The FastAPI application: routers registered here, errors mapped in problems.py.

Security wiring: every route declares its permission (api/deps.py ``require``/``public``); the
routes FastAPI adds itself (the OpenAPI document and its docs page) are public by design. The
OpenAPI document advertises the two credentials: a bearer token and the console's session cookie.
"""

from __future__ import annotations

from fastapi import FastAPI

from lotline import web
from lotline.api import guard, problems
from lotline.api.deps import public
from lotline.api.routers import audit as audit_router
from lotline.api.routers import auth as auth_router
from lotline.api.routers import catalog, inventory, production, recall_completion, sales
from lotline.api.routers import epcis as epcis_router
from lotline.api.routers import kpis as kpis_router
from lotline.api.routers import recalls as recalls_router
from lotline.api.routers import trace as trace_router
from lotline.api.schemas import Health
from lotline.respond import routes as respond_routes

API_PREFIX = "/api/v1"


def create_app() -> FastAPI:
    app = FastAPI(
        title="lotline",
        version="0.1.0",
        description="Lot traceability, recalls and inventory KPIs. Errors are RFC 9457 problem+json.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    problems.install(app)  # problem+json for every error, OPTIONS, the documented error responses
    app.exception_handler(guard.BodyTooLarge)(guard.body_too_large_handler)
    # admission, body size, timeouts, cancelling the work of a client that went away (api/guard.py)
    app.add_middleware(guard.RequestGuard)

    @app.get(f"{API_PREFIX}/health", tags=["meta"], dependencies=[public()], response_model=Health)
    def health() -> dict:
        return {"status": "ok"}

    # The JSON API lives under a versioned prefix so that the web console can own "/". A request
    # is matched against the routes in this order, each included router's routes one by one (a
    # regex and some scope bookkeeping each): the trace routes, the hot read path, come first.
    # No other API path can match /api/v1/trace/..., so the order changes no answer.
    for module in (
        trace_router,
        auth_router,
        catalog,
        inventory,
        production,
        sales,
        recall_completion,
        recalls_router,
        kpis_router,
        audit_router,
        epcis_router,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    # the public recall response page: no sign-in, the link's token is the credential
    app.include_router(respond_routes.router)
    web.install(app)  # the console at "/" (HTML pages over the same services)
    return app
