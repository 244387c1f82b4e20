"""Request-scoped database sessions: the transaction boundary of an HTTP request.

``scope="function"`` (FastAPI >= 0.121) runs the commit when the endpoint returns, before the
response is sent, so a failed commit is an error response, never a 200.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from lotline import errors
from lotline.db import read_snapshot, retry, transaction


def _write_session() -> Iterator[Session]:
    with transaction() as session:
        yield session


def _snapshot_write_session() -> Iterator[Session]:
    with transaction(isolation="REPEATABLE READ") as session:
        yield session


def _read_session() -> Iterator[Session]:
    with read_snapshot() as session:
        yield session


WriteSession = Annotated[Session, Depends(_write_session, scope="function")]
# Multi-statement computations that write their results (KPI runs): one snapshot of the ledger.
SnapshotWriteSession = Annotated[Session, Depends(_snapshot_write_session, scope="function")]
ReadSession = Annotated[Session, Depends(_read_session, scope="function")]


class RetryingRoute(APIRoute):
    """Re-runs the whole request — dependencies, endpoint, commit — on a retryable conflict.

    Each attempt gets its own exit stack for the function-scoped dependencies, so the attempt's
    session is rolled back and closed (releasing its locks) before the next one starts, and a
    conflict raised by the commit itself is retried too. The policy is ``lotline.db.retry``'s.
    The body is read once and cached by Starlette's Request, so every attempt sees it.
    """

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def retrying(request: Request) -> Response:
            for attempt in range(retry.ATTEMPTS):
                try:
                    async with AsyncExitStack() as stack:
                        request.scope["fastapi_function_astack"] = stack
                        response = await handler(request)
                    return response
                except errors.ConcurrencyConflict as exc:
                    if not retry.retryable(exc) or attempt == retry.ATTEMPTS - 1:
                        raise
                await asyncio.sleep(retry.delay(attempt))
            raise AssertionError("unreachable")

        return retrying
