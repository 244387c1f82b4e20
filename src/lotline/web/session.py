"""The console's one seam to identity: who is signed in, what they may do, CSRF, sign-in/out.

Every console route goes through these functions and nothing else, so the identity provider can
change without touching pages. Invariants:
- the session cookie is HttpOnly, SameSite=Strict, Secure (browsers treat 127.0.0.1/localhost as
  secure, so it works on a plant's local http too) and carries an opaque random token only;
- every state-changing request (POST) carries the session's CSRF token, as a form field
  ``csrf_token`` or an ``X-CSRF-Token`` header (htmx sends the header from the page's meta tag);
- permissions are checked on the server for every route; templates only hide what ``can`` denies.

Interim provider (until lotline.auth lands): users from ``LOTLINE_CONSOLE_USERS`` =
``name:password:role[,…]``; sessions in process memory. Nothing else in the console depends on it.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass, field

from lotline.errors import LotlineError

COOKIE = "lotline_session"
SESSION_SECONDS = 8 * 3600

# role -> permissions, as lotline.auth.permissions has them (the interim provider mirrors that table).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read", "audit.read"}),
    "operator": frozenset({"read", "audit.read"}),
    "quality": frozenset({"read", "audit.read", "lot.status", "recall.write"}),
    "analyst": frozenset({"read", "audit.read", "kpi.run"}),
    "admin": frozenset({"read", "audit.read", "users.manage", "tokens.manage"}),
}


class NotSignedIn(LotlineError):
    code = "unauthenticated"


class Forbidden(LotlineError):
    code = "forbidden"


class CsrfRefused(LotlineError):
    code = "csrf"


@dataclass(frozen=True)
class WebUser:
    name: str
    full_name: str
    roles: tuple[str, ...]
    permissions: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass
class WebSession:
    token: str
    user: WebUser
    csrf: str
    expires: float


_lock = threading.Lock()
_sessions: dict[str, WebSession] = {}


def _users() -> dict[str, tuple[str, str]]:
    out = {}
    for entry in filter(None, (e.strip() for e in os.environ.get("LOTLINE_CONSOLE_USERS", "").split(","))):
        name, password, role = entry.split(":", 2)
        out[name] = (password, role)
    return out


def _user(name: str, role: str) -> WebUser:
    return WebUser(name, name, (role,), ROLE_PERMISSIONS.get(role, frozenset()))


def sign_in(username: str, password: str) -> WebSession:
    """A new session for valid credentials; the same answer for unknown user and wrong password."""
    known = _users().get(username)
    if known is None or not hmac.compare_digest(known[0].encode(), password.encode()):
        raise NotSignedIn("unknown user or wrong password")
    session = WebSession(secrets.token_urlsafe(32), _user(username, known[1]), secrets.token_urlsafe(32),
                         time.time() + SESSION_SECONDS)
    with _lock:
        _sessions[session.token] = session
    return session


def resolve(token: str | None) -> WebSession | None:
    """The live session of a cookie token, or None (unknown, signed out or expired)."""
    if not token:
        return None
    with _lock:
        session = _sessions.get(token)
        if session is not None and session.expires < time.time():
            del _sessions[token]
            return None
    return session


def sign_out(token: str | None) -> None:
    with _lock:
        _sessions.pop(token or "", None)


def check_csrf(session: WebSession, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(session.csrf.encode(), presented.encode()):
        raise CsrfRefused("the form's security token is missing or stale; reload the page and try again")


def require(session: WebSession | None, permission: str) -> WebUser:
    if session is None:
        raise NotSignedIn("sign in first")
    if not session.user.can(permission):
        raise Forbidden(f"{session.user.name} may not do this (needs permission {permission!r})")
    return session.user


def verify_signature(session: WebSession, password: str, meaning: str) -> None:
    """An electronic signature: the signer re-enters their own password (interim: checked only)."""
    known = _users().get(session.user.name)
    if known is None or not password or not hmac.compare_digest(known[0].encode(), password.encode()):
        raise Forbidden("the signature password is wrong")
    if meaning not in ("approved", "reviewed", "responsible"):
        raise Forbidden(f"unknown signature meaning {meaning!r}")
