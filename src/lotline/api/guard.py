"""The request guard: what one server process takes on, how big a body may be, and what a request
that lost its client stops doing. A pure ASGI middleware around the whole application.

- **Admission.** At most ``LOTLINE_API_CONCURRENCY`` requests run at once; up to
  ``LOTLINE_API_QUEUE`` more wait (first come, first served) for at most
  ``LOTLINE_API_QUEUE_TIMEOUT`` seconds. Past either bound the answer is 503 problem+json with
  ``Retry-After`` — at once, instead of the 30 s stall and the 500s of an exhausted connection pool.
  The pool (db/engine.py) and the AnyIO thread limiter that runs the sync endpoints are sized from
  the same number (config.py), so an admitted request never waits for a connection while holding a
  thread that another request needs to finish. ``/api/v1/health`` is not queued.
- **Body size.** A body over ``LOTLINE_MAX_BODY_BYTES`` (``LOTLINE_MAX_CAPTURE_BYTES`` for
  ``POST /api/v1/epcis/capture``) is refused with 413 problem+json: up front when Content-Length
  says so, otherwise while it streams — the receive channel counts the bytes it passes on and
  raises ``BodyTooLarge`` past the limit. Nothing is buffered or replayed: the application reads
  the body from the channel as it arrives, as Starlette expects.
- **Timeouts and a client that went away.** Each request's transactions get the statement and lock
  timeouts (db/session.py ``current_timeouts``) and register their connections
  (``OpenConnections``). Once the body has been read, this guard is the one reader of the receive
  channel; when it reports ``http.disconnect`` before the response is complete, the running
  statements are cancelled, their transactions roll back and their locks go. The application still
  sees the disconnect if it asks for one (a streaming response does).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lotline import config
from lotline.api import problems
from lotline.db import session as db_session

HEALTH_PATH = "/api/v1/health"
CAPTURE_PATH = "/api/v1/epcis/capture"
RETRY_AFTER = "1"  # seconds; a busy server frees a slot in well under that
_CANCELLERS = anyio.CapacityLimiter(4)  # threads that send cancel requests, apart from the endpoints'


class BodyTooLarge(HTTPException):
    """The request body passed its limit while streaming (an HTTPException, so that FastAPI's body
    parsing lets it through unchanged)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body is larger than {limit} bytes")
        self.limit = limit


def too_large(limit: int) -> JSONResponse:
    return problems.problem(
        413, "body_too_large", "Content too large",
        f"the request body is larger than the limit of {limit} bytes (LOTLINE_MAX_BODY_BYTES; "
        f"LOTLINE_MAX_CAPTURE_BYTES for EPCIS capture)", limit=limit,
    )


async def body_too_large_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return too_large(exc.limit)


def busy(detail: str) -> JSONResponse:
    response = problems.problem(503, "unavailable", "Unavailable", detail)
    response.headers["Retry-After"] = RETRY_AFTER
    return response


class Admission:
    """A bounded, first-come-first-served queue in front of ``concurrency`` slots (one event loop)."""

    def __init__(self, limits: config.ApiLimits) -> None:
        self.limits = limits
        self.slots = asyncio.Semaphore(limits.concurrency)
        self.waiting = 0

    async def enter(self) -> str | None:
        """None once a slot is taken; otherwise why the request is refused."""
        if not self.slots.locked():
            await self.slots.acquire()
            return None
        if self.waiting >= self.limits.queue:
            return f"the server is busy: {self.limits.concurrency} requests running and {self.waiting} waiting"
        self.waiting += 1
        try:
            async with asyncio.timeout(self.limits.queue_timeout):
                await self.slots.acquire()
        except TimeoutError:
            return f"the server is busy: no request slot became free within {self.limits.queue_timeout:g} s"
        finally:
            self.waiting -= 1
        return None

    def leave(self) -> None:
        self.slots.release()


@dataclass
class _Exchange:
    """One request's channel: the body counted as it streams, then the disconnect watched."""

    receive: Receive
    limit: int
    body_read: asyncio.Event
    gone: asyncio.Event
    received: int = 0
    pending: Message | None = None  # a bodiless request's one message, read before the app starts
    response_complete: bool = False

    async def app_receive(self) -> Message:
        if self.body_read.is_set():
            if self.pending is not None:
                message, self.pending = self.pending, None
                return message
            await self.gone.wait()
            return {"type": "http.disconnect"}
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise BodyTooLarge(self.limit)
            if not message.get("more_body", False):
                self.body_read.set()
        elif message["type"] == "http.disconnect":
            self.gone.set()
            self.body_read.set()
        return message

    async def watch(self, connections: db_session.OpenConnections) -> None:
        """Wait for the client to go; cancel the request's statements if it goes before the answer."""
        await self.body_read.wait()
        while not self.gone.is_set():
            if (await self.receive())["type"] == "http.disconnect":
                self.gone.set()
        if not self.response_complete:
            await anyio.to_thread.run_sync(connections.cancel, limiter=_CANCELLERS)


def _content_length(headers: Headers) -> int | None:
    text = headers.get("content-length")
    return int(text) if text is not None and text.isdigit() else None


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.limits = config.api_limits()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._admission: Admission | None = None

    def _admission_here(self) -> Admission:
        """The admission of the running loop; the first request on a loop also sizes its threads."""
        loop = asyncio.get_running_loop()
        if self._admission is None or self._loop is not loop:
            self._loop, self._admission = loop, Admission(self.limits)
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.limits.threads
        return self._admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.limits.max_capture_bytes if path == CAPTURE_PATH else self.limits.max_body_bytes
        headers = Headers(scope=scope)
        length = _content_length(headers)
        if length is not None and length > limit:
            await too_large(limit)(scope, receive, send)
            return
        if path == HEALTH_PATH:
            await self.app(scope, receive, send)
            return
        admission = self._admission_here()
        refused = await admission.enter()
        if refused is not None:
            await busy(refused)(scope, receive, send)
            return
        try:
            bodiless = length in (None, 0) and "transfer-encoding" not in headers
            await self._run(scope, receive, send, limit, bodiless)
        finally:
            admission.leave()

    async def _run(self, scope: Scope, receive: Receive, send: Send, limit: int, bodiless: bool) -> None:
        exchange = _Exchange(receive, limit, asyncio.Event(), asyncio.Event())
        if bodiless:
            # its one (empty) message is already there; read it now so that the watcher can start
            exchange.pending = await receive()
            exchange.body_read.set()
            if exchange.pending["type"] == "http.disconnect":
                exchange.gone.set()

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                exchange.response_complete = True
            await send(message)

        connections = db_session.OpenConnections()
        timeouts = db_session.current_timeouts.set((self.limits.statement_timeout, self.limits.lock_timeout))
        registry = db_session.current_connections.set(connections)
        watcher = asyncio.create_task(exchange.watch(connections))
        try:
            await self.app(scope, exchange.app_receive, guarded_send)
        finally:
            exchange.response_complete = True
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
            db_session.current_connections.reset(registry)
            db_session.current_timeouts.reset(timeouts)
