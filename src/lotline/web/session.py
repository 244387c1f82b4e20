"""The console's one seam to identity (lotline.auth): sign-in/out, the current principal, signatures.

Every console route goes through these functions. Invariants:
- the session cookie is auth's server-side web session (opaque token, stored hashed): HttpOnly,
  SameSite=Strict, Secure (browsers treat 127.0.0.1/localhost as secure, so a plant's local http
  works too);
- every state-changing request carries the session's CSRF token (form field ``csrf_token`` or the
  ``X-CSRF-Token`` header htmx sends from the page) — checked by ``api.deps.current_principal``;
- permissions come from auth's one table and are checked on the server for every route; templates
  only hide what ``Principal.can`` denies;
- the principal is the actor of every transaction the request (or a job it starts) opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session

from lotline import db
from lotline.api import deps
from lotline.auth import service as auth_service
from lotline.auth import signatures
from lotline.auth.schemas import SignatureIn
from lotline.auth.service import Principal
from lotline.errors import PermissionDenied, SignatureRefused, Unauthenticated

COOKIE = deps.SESSION_COOKIE
__all__ = ["COOKIE", "Principal", "Unauthenticated", "PermissionDenied", "SignatureRefused"]


@dataclass(frozen=True)
class NewSession:
    cookie: str
    expires_at: datetime


def sign_in(request: Request, username: str, password: str) -> NewSession:
    """A new web session for valid credentials (auth throttles and audits failures)."""
    with db.transaction(actor="") as s:
        principal = auth_service.sign_in(s, username, password)
        new = auth_service.create_session(s, principal, request.headers.get("user-agent"))
    return NewSession(new.cookie, new.expires_at)


def sign_out(request: Request) -> None:
    cookie = request.cookies.get(COOKIE)
    if cookie:
        with db.transaction() as s:
            auth_service.revoke_session(s, cookie)


async def principal(request: Request) -> Principal:
    """The signed-in principal (Unauthenticated otherwise); for writes, the CSRF token is checked."""
    found = await deps.current_principal(request)
    if found.via != "session":
        # the console is for people in a browser: a bearer token has no CSRF token to put in forms
        raise Unauthenticated("the console needs a signed-in session; sign in")
    return found


def optional_principal(request: Request) -> Principal | None:
    """For error pages: who is signed in, if anyone (never raises)."""
    return getattr(request.state, "principal", None)


def signature_of(password: str, meaning: str) -> SignatureIn:
    """The form's signature fields as the SignatureIn a signed service step takes."""
    try:
        return SignatureIn(password=password, meaning=meaning)
    except ValueError as exc:
        raise SignatureRefused(f"signature refused: {exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}") from exc


def sign(session: Session, password: str, meaning: str, action: str, table: str, record_id) -> dict:
    """An electronic signature of the change just flushed (the signer's password again)."""
    try:
        data = SignatureIn(password=password, meaning=meaning)
    except ValueError as exc:
        raise SignatureRefused(f"signature refused: {exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}") from exc
    return signatures.sign(session, data, action, table, record_id)
