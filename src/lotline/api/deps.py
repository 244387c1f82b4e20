"""Request dependencies: who is calling, what they may do, and the request's transaction.

- ``current_principal`` resolves the credential once per request — ``Authorization: Bearer <token>``
  or the console's session cookie — in a short transaction of its own (it may note the token's
  last use, and records a refused credential), then sets the actor for everything the request does.
  Cookie-authenticated writes (any method but GET/HEAD/OPTIONS) must carry the session's CSRF token
  in the ``X-CSRF-Token`` header or a ``csrf_token`` form field.
- ``require(permission)`` is how every route declares what it needs (``dependencies=[require(...)]``
  or as a parameter ``principal: Principal = require(...)``); ``public()`` marks the few routes that
  need no credential. A test walks ``app.routes`` and fails on a route that declares neither.
- ``reader(permission)`` declares a permission too, for the hot read routes (the traces): the
  endpoint hands ``Reader`` one function, and the credential, the permission check and that
  function run in one worker thread and one read snapshot (see ``Reader``).
- ``WriteSession`` / ``ReadSession`` open the request's transaction with the principal as actor.
  ``scope="function"`` (FastAPI >= 0.121) runs the commit when the endpoint returns, before the
  response is sent, so a failed commit is an error response, never a 200.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from lotline import db, errors
from lotline.auth import permissions
from lotline.auth import service as auth_service
from lotline.auth.service import Principal
from lotline.db import read_snapshot, retry, transaction
from lotline.errors import Unauthenticated

SESSION_COOKIE = "lotline_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

T = TypeVar("T")


def _resolve(resolver, secret: str) -> Principal:
    with transaction() as session:
        return resolver(session, secret)


async def _csrf_given(request: Request) -> str | None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        return field if isinstance(field, str) else None  # an uploaded file is no token
    return given


def _credential(request: Request) -> tuple[Callable[[Session, str], Principal], str]:
    """The resolver and secret of the request's credential (no database yet); Unauthenticated
    when there is none or the Authorization header is malformed."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        return auth_service.resolve_token, token.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return auth_service.resolve_session, cookie
    raise Unauthenticated(
        "no credential: send 'Authorization: Bearer <token>' (an admin creates one with "
        "`lotline token create`) or sign in at POST /api/v1/auth/sign-in"
    )


async def current_principal(request: Request) -> Principal:
    """The caller, from a bearer token or a session cookie; Unauthenticated otherwise."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    resolver, secret = _credential(request)
    principal = await run_in_threadpool(_resolve, resolver, secret)
    if principal.via == "session" and request.method not in SAFE_METHODS:
        auth_service.check_csrf(principal, await _csrf_given(request))
    request.state.principal = principal
    # Flows that open their own transactions (notices sent from a route) act as the same person.
    db.set_actor(principal.actor)
    return principal


def require(permission: str):
    """The dependency declaring that a route needs ``permission`` (403 naming it otherwise)."""
    if permission not in permissions.PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}: add it to lotline/auth/permissions.py")

    async def check(principal: Principal = Depends(current_principal)) -> Principal:
        principal.require(permission)
        return principal

    check.__name__ = f"require_{permission.replace('.', '_')}"
    return Depends(permissions.declare(check, permission))


class Reader:
    """A read route's whole work in one worker thread and one read snapshot: the credential
    resolved, the permission checked, then ``fn(session, *args)`` run as that principal.

    The hot read path (a trace) pays one thread hop and one pooled connection per request this
    way, instead of one hop for the credential, two for a generator session dependency and one
    for a sync endpoint (each hop a queue hand-off and a wake-up of the event loop, contending
    for the GIL), and a transaction of its own for the credential (BEGIN, settings, COMMIT).
    The credential is looked up in the snapshot itself, so it is checked on every request
    exactly as ``current_principal`` checks it (a revoked token or a disabled user is refused at
    the next request; nothing is remembered between requests). Its "last used" note, a write, is
    deferred to a short transaction after the snapshot (at most once a minute per credential).
    The snapshot is READ ONLY, so no audit row can be written in it: it needs no actor.
    """

    def __init__(self, request: Request, permission: str) -> None:
        self.request, self.permission = request, permission

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        request = self.request
        cached: Principal | None = getattr(request.state, "principal", None)
        credential = None if cached is not None else _credential(request)
        csrf: tuple[str | None] | None = None  # (the given token,) when the write needs one
        if credential is not None and credential[0] is auth_service.resolve_session \
                and request.method not in SAFE_METHODS:
            csrf = (await _csrf_given(request),)
        principal, result = await anyio.to_thread.run_sync(self._work, cached, credential, csrf, fn, args)
        request.state.principal = principal
        db.set_actor(principal.actor)
        return result

    def _work(self, cached, credential, csrf, fn, args) -> tuple[Principal, Any]:
        deferred: list[auth_service.Touch] = []
        try:
            with read_snapshot(actor=cached.actor if cached is not None else "") as session:
                if cached is not None:
                    principal = cached
                else:
                    resolver, secret = credential
                    principal = resolver(session, secret, deferred=deferred)
                if csrf is not None:
                    auth_service.check_csrf(principal, csrf[0])
                principal.require(self.permission)
                return principal, fn(session, *args)
        finally:
            if deferred:  # the credential was good: note its use, whatever the work answered
                with transaction(actor="") as session:
                    for step in deferred:
                        step(session)


def reader(permission: str):
    """The dependency of a read route that runs in one thread hop (``Reader``), declaring that it
    needs ``permission`` as ``require`` does: ``read: Annotated[Reader, reader("read")]``."""
    if permission not in permissions.PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}: add it to lotline/auth/permissions.py")

    async def make(request: Request) -> Reader:  # async: a sync dependency would cost a thread hop
        if getattr(request.state, "principal", None) is None:
            _credential(request)  # no credential at all: 401 before any other check, as ``require``
        return Reader(request, permission)

    make.__name__ = f"reader_{permission.replace('.', '_')}"
    return Depends(permissions.declare(make, permission))


def public():
    """Marks a route that needs no credential (health, sign-in)."""

    def none() -> None:
        return None

    return Depends(permissions.declare(none, permissions.PUBLIC))


def declared_permission(route, inherited: tuple = ()) -> str | None:
    """The permission a route declares through ``require``/``public`` (None: undeclared)."""
    dependant = getattr(route, "dependant", None)
    calls = [dep.call for dep in dependant.dependencies] if dependant is not None else []
    calls += [getattr(dep, "dependency", None) for dep in inherited]
    for call in calls:
        found = permissions.declared(call)
        if found is not None:
            return found
    return None


def walk_routes(routes, prefix: str = "", inherited: tuple = ()):
    """(full path, route, router-level dependencies) of every route, through included routers.

    FastAPI >= 0.16x keeps included routers as branches (``original_router`` + an include context
    with the prefix); older versions flatten them into ``app.routes``. Both are walked.
    """
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            yield from walk_routes(
                original.routes,
                prefix + getattr(context, "prefix", ""),
                inherited + tuple(getattr(context, "dependencies", ()) or ()),
            )
        else:
            yield prefix + getattr(route, "path", ""), route, inherited


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def _write_session(principal: CurrentPrincipal) -> Iterator[Session]:
    with transaction(actor=principal.actor) as session:
        yield session


def _snapshot_write_session(principal: CurrentPrincipal) -> Iterator[Session]:
    with transaction(isolation="REPEATABLE READ", actor=principal.actor) as session:
        yield session


def _read_session(principal: CurrentPrincipal) -> Iterator[Session]:
    with read_snapshot(actor=principal.actor) as session:
        yield session


def _anonymous_write_session() -> Iterator[Session]:
    with transaction(actor="") as session:
        yield session


WriteSession = Annotated[Session, Depends(_write_session, scope="function")]
# Multi-statement computations that write their results (KPI runs): one snapshot of the ledger.
SnapshotWriteSession = Annotated[Session, Depends(_snapshot_write_session, scope="function")]
ReadSession = Annotated[Session, Depends(_read_session, scope="function")]
# Sign-in only: there is nobody yet to act as.
AnonymousWriteSession = Annotated[Session, Depends(_anonymous_write_session, scope="function")]


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
