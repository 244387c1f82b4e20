"""``lotline serve``: the HTTP API (OpenAPI docs at /api/v1/docs).

uvicorn picks its C HTTP parser (httptools) and the libuv event loop (uvloop) itself when they are
installed (both are dependencies). ``--workers N`` runs N processes, each with its own event loop,
thread pool and connection pool; on the trace read path each request costs one worker-thread hop
and one pooled connection (api/deps.py ``Reader``).
"""

from __future__ import annotations

import typer

from lotline import config, errors
from lotline.auth import service as auth_service
from lotline.db import get_engine, read_snapshot

NO_USERS = (
    "this database has no users yet, so nobody could sign in or use the API. Create the first "
    "admin with `lotline user add NAME --role admin` (it prompts for the password; "
    "`--password-stdin` reads it from stdin), then an API token with "
    "`lotline token create --user NAME --name laptop`, and run `lotline serve` again"
)


# How long uvicorn's supervisor waits for a worker process to answer its ping before it kills it as
# hung (uvicorn's default: 5 s). A freshly spawned worker answers only once its interpreter has
# started and imported uvicorn; on a loaded machine (load 11-12 on 2 cores, measured) that took
# longer than 5 s, so every worker was killed and respawned, over and over, and `serve --workers 2`
# never answered. A worker that is really hung is still replaced, 30 s later.
WORKER_HEALTHCHECK_SECONDS = 30


def ensure_users() -> None:
    """Conflict (exit 5) with the way out when the database has no users."""
    with read_snapshot() as s:
        if not auth_service.has_users(s):
            raise errors.Conflict(NO_USERS)


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port."),
    workers: int = typer.Option(
        1, min=1, max=64,
        help="Server processes (uvicorn workers) sharing the port. Each has its own request limit, "
        "thread pool and database pool (LOTLINE_API_CONCURRENCY, default 16: up to 32 connections a "
        "process), so keep workers x 32 under the server's max_connections. About one per core.",
    ),
    # On by default: an operator sees every request. Measured on the trace read path (8 clients,
    # bench/RESULTS.md): 4.5-5.3 ms of server CPU a request with it, 4.8-5.0 without — within the
    # noise of a shared machine. Load tests turn it off (bench/bench_http.py does).
    access_log: bool = typer.Option(
        True, help="Log every request (uvicorn's access log; its cost was within measurement noise, "
        "--no-access-log for load tests)."),
) -> None:
    """Run the HTTP API (OpenAPI docs at /api/v1/docs); --workers N runs N processes."""
    # CLI start-up: only this command needs the web stack (FastAPI, the console, uvicorn)
    import uvicorn  # noqa: PLC0415 — see above

    # a bad LOTLINE_API_* / LOTLINE_DB_* value is refused here (exit 2, naming it), not at the
    # first request each worker takes
    config.api_limits()
    config.pool_settings()
    get_engine()  # fail fast, with a clear message, when the database is unreachable
    ensure_users()
    # an import string, so that each worker process builds its own app (and engine, and pool)
    uvicorn.run("lotline.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=access_log, timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS)
