"""``lotline serve``: the HTTP API (OpenAPI docs at /api/v1/docs)."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port."),
) -> None:
    """Run the HTTP API (OpenAPI docs at /api/v1/docs)."""
    import uvicorn

    from lotline.api.app import create_app
    from lotline.db import get_engine

    get_engine()  # fail fast, with a clear message, when the database is unreachable
    uvicorn.run(create_app(), host=host, port=port)
