"""``lotline serve``: the HTTP API (OpenAPI docs at /api/v1/docs)."""

from __future__ import annotations

import typer

from lotline import errors

NO_USERS = (
    "this database has no users yet, so nobody could sign in or use the API. Create the first "
    "admin with `lotline user add NAME --role admin` (it prompts for the password; "
    "`--password-stdin` reads it from stdin), then an API token with "
    "`lotline token create --user NAME --name laptop`, and run `lotline serve` again"
)


def ensure_users() -> None:
    """Conflict (exit 5) with the way out when the database has no users."""
    from lotline.auth import service as auth_service
    from lotline.db import read_snapshot

    with read_snapshot() as s:
        if not auth_service.has_users(s):
            raise errors.Conflict(NO_USERS)


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port."),
) -> None:
    """Run the HTTP API (OpenAPI docs at /api/v1/docs)."""
    import uvicorn

    from lotline.api.app import create_app
    from lotline.db import get_engine

    get_engine()  # fail fast, with a clear message, when the database is unreachable
    ensure_users()
    uvicorn.run(create_app(), host=host, port=port)
