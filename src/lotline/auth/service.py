"""Users, roles, API tokens and web sessions; the ``Principal`` every entrypoint resolves.

Services take a session and never commit. A refused credential raises ``Unauthenticated`` whose
``after_rollback`` records the failed attempt (audit entry, failed-sign-in counter) once the
request's transaction is rolled back — so nothing but that record is written.

Throttling: ``MAX_FAILURES`` failed password checks in a row lock the account for ``LOCK_FOR``;
a locked account refuses even the right password, and says the same as for an unknown name.
Tokens: ``llt_`` + 43 base64url characters (256 random bits); the first ``PREFIX_LENGTH``
characters identify it in listings, SHA-256 of the whole is stored. Web sessions: a 256-bit cookie
value (SHA-256 stored), absolute lifetime ``SESSION_LIFETIME``, idle timeout ``SESSION_IDLE``; the
CSRF token is derived from the cookie value, so it is never stored and cannot be guessed from the
page without the cookie.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.audit import service as audit
from lotline.auth import passwords, permissions
from lotline.auth.models import ApiToken, User, UserRole, WebSession
from lotline.auth.schemas import TokenIn, UserIn
from lotline.db import sql
from lotline.errors import Conflict, CsrfRejected, InvalidInput, NotFound, Unauthenticated
from lotline.types import utcnow

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
TOKEN_MARK = "llt_"
PREFIX_LENGTH = 12
SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(minutes=60)
# last_used_at / last_seen_at are written at most once a minute per credential (no write per request)
TOUCH_EVERY = timedelta(minutes=1)

SIGN_IN_REFUSED = "sign-in refused: unknown user, wrong password, or the account is locked or disabled"


@dataclass(frozen=True)
class Principal:
    """Who acts: a lotline user (by token, session, password or ``--as``) or the OS login (CLI)."""

    name: str
    full_name: str
    roles: frozenset[str]
    via: str  # token | session | password | cli | os
    user_id: uuid.UUID | None = None
    credential_id: uuid.UUID | None = None
    csrf_token: str | None = field(default=None, repr=False)

    @property
    def actor(self) -> str:
        """The ``lotline.actor`` setting: ``user:NAME``, or ``os:LOGIN`` for an unnamed CLI user."""
        return f"os:{self.name}" if self.via == "os" else f"user:{self.name}"

    def can(self, permission: str) -> bool:
        return permissions.allowed(self.roles, permission)

    def require(self, permission: str) -> None:
        """PermissionDenied naming ``permission`` unless one of the roles grants it."""
        permissions.check(self.roles, permission, f"user {self.name}" if self.via != "os" else self.name)


def os_principal() -> Principal:
    """The CLI without ``--as``: the operating system's login name, marked as such; every role —
    whoever runs the CLI already has the database."""
    try:
        login = getpass.getuser()
    except Exception:  # no login name (container without passwd entry)
        login = "unknown"
    return Principal(name=login, full_name=login, roles=frozenset(permissions.ROLES), via="os")


def _sha256(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


# --- users -------------------------------------------------------------------------------------


def find_user(session: Session, name: str) -> User:
    user = session.scalar(sa.select(User).where(User.name == name.strip().lower()))
    if user is None:
        raise NotFound(f"unknown user {name!r}")
    return user


def roles_of(session: Session, user_id: uuid.UUID) -> frozenset[str]:
    return frozenset(session.scalars(sa.select(UserRole.role).where(UserRole.user_id == user_id)))


def has_users(session: Session) -> bool:
    return session.scalar(sa.select(sa.exists().where(User.id.is_not(None)))) or False


def user_row(session: Session, user: User) -> dict:
    return user_dict(user, roles_of(session, user.id))


def user_dict(user: User, roles) -> dict:
    """A user as the API and CLI print it (``roles``: theirs, any order)."""
    return {
        "id": user.id,
        "name": user.name,
        "full_name": user.full_name,
        "email": user.email,
        "roles": sorted(roles),
        "active": user.active,
        "has_password": user.password_hash is not None,
        "locked_until": user.locked_until,
        "created_at": user.created_at,
        "disabled_at": user.disabled_at,
    }


def add_user(session: Session, data: UserIn) -> User:
    """Create a user with roles (and a password when given); DuplicateKey for a taken name."""
    if session.scalar(sa.select(User.id).where(User.name == data.name)) is not None:
        raise Conflict(f"user {data.name!r} already exists", name=data.name)
    user = User(name=data.name, full_name=data.full_name, email=data.email)
    if data.password is not None:
        user.password_hash = passwords.hash_password(data.password)
        user.password_changed_at = utcnow()
    session.add(user)
    session.flush()
    for role in sorted(set(data.roles)):
        session.add(UserRole(user_id=user.id, role=role))
    session.flush()
    session.refresh(user)
    return user


def list_users(session: Session) -> list[dict]:
    return [user_row(session, u) for u in session.scalars(sa.select(User).order_by(User.name))]


def _active_admins(session: Session) -> int:
    return session.execute(
        sa.select(sa.func.count())
        .select_from(UserRole)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role == "admin", User.active)
    ).scalar_one()


def _lock_user(session: Session, user: User) -> None:
    session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())


def disable_user(session: Session, name: str) -> User:
    """Disable a user (never deleted: the audit trail names them); their credentials stop working.
    Conflict when it is the last active admin."""
    user = find_user(session, name)
    _lock_user(session, user)
    if not user.active:
        return user
    if "admin" in roles_of(session, user.id) and _active_admins(session) <= 1:
        raise Conflict(f"user {user.name!r} is the last active admin; add another admin first")
    user.active = False
    user.disabled_at = utcnow()
    now = utcnow()
    session.execute(
        sa.update(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None)).values(revoked_at=now)
    )
    session.flush()
    return user


def set_roles(session: Session, name: str, roles: Sequence[str]) -> User:
    """Replace a user's roles; Conflict when it would leave no active admin."""
    user = find_user(session, name)
    _lock_user(session, user)
    wanted, held = set(roles), roles_of(session, user.id)
    if "admin" in held and "admin" not in wanted and user.active and _active_admins(session) <= 1:
        raise Conflict(f"user {user.name!r} is the last active admin; add another admin first")
    if held - wanted:
        session.execute(sa.delete(UserRole).where(UserRole.user_id == user.id, UserRole.role.in_(held - wanted)))
    for role in sorted(wanted - held):
        session.add(UserRole(user_id=user.id, role=role))
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    user = find_user(session, name)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    user.failed_sign_ins = 0
    user.locked_until = None
    session.flush()
    return user


# --- password checks (sign-in, signatures) and throttling ---------------------------------------


def _record_failure(name: str, user_id: uuid.UUID | None, why: str, event: str) -> Callable[[Session], None]:
    def record(session: Session) -> None:
        locked = False
        if user_id is not None and why == "wrong_password":
            # One statement: count the failure, lock at the limit (and restart the count).
            locked = bool(session.execute(
                sa.text(
                    "UPDATE users SET failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= :max THEN 0"
                    "                                   ELSE failed_sign_ins + 1 END,"
                    "                 locked_until = CASE WHEN failed_sign_ins + 1 >= :max"
                    "                                THEN now() + CAST(:lock AS interval) ELSE locked_until END"
                    " WHERE id = :id RETURNING locked_until IS NOT NULL AND locked_until > now()"
                ),
                {"max": MAX_FAILURES, "lock": f"{int(LOCK_FOR.total_seconds())} seconds", "id": user_id},
            ).scalar())
        audit.record_event(session, event, "users", user_id, {"name": name, "why": why})
        if locked and why == "wrong_password":
            audit.record_event(
                session, "account_locked", "users", user_id, {"name": name, "minutes": LOCK_FOR.total_seconds() / 60}
            )

    return record


def _refuse(message: str, name: str, user: User | None, why: str, event: str, error=Unauthenticated):
    exc = error(message)
    exc.after_rollback = _record_failure(name, user.id if user else None, why, event)
    return exc


def check_password(session: Session, name: str, password: str, *, event: str = "sign_in_failed",
                   message: str = SIGN_IN_REFUSED, error=Unauthenticated) -> User:
    """The user whose name and password these are, or ``error`` (same message whatever failed)."""
    user = session.scalar(sa.select(User).where(User.name == name.strip().lower()))
    ok = passwords.verify(user.password_hash if user is not None else None, password)
    now = utcnow()
    if user is None:
        raise _refuse(message, name, None, "unknown_user", event, error)
    if not user.active:
        raise _refuse(message, name, user, "disabled", event, error)
    if user.locked_until is not None and user.locked_until > now:
        raise _refuse(message, name, user, "locked", event, error)
    if not ok:
        raise _refuse(message, name, user, "wrong_password", event, error)
    if user.failed_sign_ins or user.locked_until is not None:
        user.failed_sign_ins = 0
        user.locked_until = None
        session.flush()
    return user


def principal_for(
    session: Session, user: User, via: str, credential_id=None, csrf_token=None, roles: frozenset[str] | None = None
) -> Principal:
    return Principal(
        name=user.name,
        full_name=user.full_name,
        roles=roles if roles is not None else roles_of(session, user.id),
        via=via,
        user_id=user.id,
        credential_id=credential_id,
        csrf_token=csrf_token,
    )


def sign_in(session: Session, name: str, password: str) -> Principal:
    """Check a name and password (throttled); Unauthenticated with one message for every failure."""
    return principal_for(session, check_password(session, name, password), "password")


def cli_principal(session: Session, name: str) -> Principal:
    """``--as NAME`` / ``LOTLINE_USER``: the named active user with their roles."""
    user = session.scalar(sa.select(User).where(User.name == name.strip().lower()))
    if user is None:
        raise Unauthenticated(f"unknown user {name!r} (from --as / LOTLINE_USER)")
    if not user.active:
        raise Unauthenticated(f"user {user.name!r} is disabled")
    return principal_for(session, user, "cli")


# --- API tokens --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    secret: str  # shown once, never stored
    token: ApiToken


def token_row(token: ApiToken, user_name: str) -> dict:
    now = utcnow()
    state = (
        "revoked" if token.revoked_at else "expired" if token.expires_at and token.expires_at <= now else "active"
    )
    return {
        "id": token.id,
        "prefix": token.token_prefix,
        "name": token.name,
        "user": user_name,
        "state": state,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "last_used_at": token.last_used_at,
    }


def create_token(session: Session, data: TokenIn) -> NewToken:
    """A new API token for ``data.user``; the secret is returned once and only its hash is kept."""
    user = find_user(session, data.user)
    if not user.active:
        raise Conflict(f"user {user.name!r} is disabled; no token can be created for them")
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise InvalidInput(f"expires_at {data.expires_at.isoformat()} is not in the future")
    secret = TOKEN_MARK + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=data.name,
        token_prefix=secret[:PREFIX_LENGTH],
        token_hash=_sha256(secret),
        expires_at=data.expires_at,
    )
    session.add(token)
    session.flush()
    session.refresh(token)
    return NewToken(secret, token)


def list_tokens(session: Session, user: str | None = None) -> list[dict]:
    query = sa.select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).order_by(ApiToken.created_at)
    if user is not None:
        query = query.where(User.id == find_user(session, user).id)
    return [token_row(t, n) for t, n in session.execute(query)]


def find_token(session: Session, ref: str) -> tuple[ApiToken, str]:
    """A token by id or by its prefix (``llt_xxxxxxxx``)."""
    query = sa.select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
    try:
        query = query.where(ApiToken.id == uuid.UUID(ref))
    except ValueError:
        query = query.where(ApiToken.token_prefix == ref[:PREFIX_LENGTH])
    rows = session.execute(query).all()
    if not rows:
        raise NotFound(f"unknown API token {ref!r}")
    if len(rows) > 1:
        raise Conflict(f"several tokens start with {ref!r}; name one by id")
    return rows[0][0], rows[0][1]


def revoke_token(session: Session, ref: str) -> dict:
    token, user_name = find_token(session, ref)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token_row(token, user_name)


Touch = Callable[[Session], object]  # a deferred write: run it in a transaction of its own


def _touch(session: Session, statement, deferred: list[Touch] | None) -> None:
    if deferred is None:
        session.execute(statement)
    else:
        deferred.append(lambda s: s.execute(statement))


def resolve_token(session: Session, secret: str, *, deferred: list[Touch] | None = None) -> Principal:
    """The principal of a bearer token; Unauthenticated (audited) if unknown, expired, revoked or
    its user is disabled.

    The token's ``last_used_at`` is noted (at most once a minute) in the same transaction, or —
    with ``deferred`` — appended there as a step for the caller to run in a write transaction of
    its own (a read-only snapshot that resolves its own credential)."""
    # one statement through the SQL runner, not ORM entities: every API request makes it (the
    # ORM select of token, user and roles cost over a millisecond of CPU a request, measured)
    row = sql.one(session, sql.load_sql("lotline.auth", "token_principal"), {"token_hash": _sha256(secret)},
                  kind="tuple")
    shown = secret[:PREFIX_LENGTH]
    if row is None:
        exc = Unauthenticated("unknown API token (check the Authorization: Bearer header)")
        exc.after_rollback = lambda s: audit.record_event(s, "token_refused", "api_tokens", None, {"prefix": shown, "why": "unknown"})
        raise exc
    token_id, prefix, revoked_at, expires_at, last_used_at, user_id, user_name, full_name, active, role_names = row
    now = utcnow()
    why = (
        "revoked" if revoked_at is not None
        else "expired" if expires_at is not None and expires_at <= now
        else "user_disabled" if not active
        else None
    )
    if why is not None:
        if why == "revoked":
            message = f"API token {prefix}… was revoked"
        elif why == "expired":
            message = f"API token {prefix}… expired at {expires_at.isoformat()}"
        else:
            message = f"API token {prefix}… belongs to disabled user {user_name!r}"
        exc = Unauthenticated(message)
        details = {"prefix": prefix, "user": user_name, "why": why}
        exc.after_rollback = lambda s: audit.record_event(s, "token_refused", "api_tokens", token_id, details)
        raise exc
    if last_used_at is None or last_used_at < now - TOUCH_EVERY:
        _touch(session, sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=sa.func.now()), deferred)
    return Principal(name=user_name, full_name=full_name, roles=frozenset(role_names or ()), via="token",
                     user_id=user_id, credential_id=token_id)


# --- web sessions (the console) ------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    cookie: str  # the cookie value, never stored
    csrf_token: str
    expires_at: datetime
    principal: Principal


def csrf_token_for(cookie: str) -> str:
    digest = hashlib.sha256(b"lotline-csrf\0" + cookie.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def create_session(session: Session, principal: Principal, user_agent: str | None = None) -> NewSession:
    """A server-side session for a signed-in user (after ``sign_in``)."""
    cookie = secrets.token_urlsafe(32)
    expires = utcnow() + SESSION_LIFETIME
    row = WebSession(
        user_id=principal.user_id,
        session_hash=_sha256(cookie),
        expires_at=expires,
        user_agent=(user_agent or "")[:500] or None,
    )
    session.add(row)
    session.flush()
    csrf = csrf_token_for(cookie)
    who = Principal(principal.name, principal.full_name, principal.roles, "session", principal.user_id, row.id, csrf)
    return NewSession(cookie, csrf, expires, who)


def resolve_session(session: Session, cookie: str, *, deferred: list[Touch] | None = None) -> Principal:
    """The principal of a session cookie; Unauthenticated if unknown, expired, idle, signed out or
    its user is disabled. ``deferred``: as for ``resolve_token`` (``last_seen_at``)."""
    row = session.execute(
        sa.select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.session_hash == _sha256(cookie))
    ).first()
    now = utcnow()
    if row is None:
        raise Unauthenticated("unknown or signed-out session; sign in again")
    ws, user = row
    if ws.revoked_at is not None:
        raise Unauthenticated("this session was signed out; sign in again")
    if ws.expires_at <= now or ws.last_seen_at < now - SESSION_IDLE:
        raise Unauthenticated("this session has expired; sign in again")
    if not user.active:
        raise Unauthenticated(f"user {user.name!r} is disabled")
    if ws.last_seen_at < now - TOUCH_EVERY:
        _touch(session, sa.update(WebSession).where(WebSession.id == ws.id).values(last_seen_at=sa.func.now()), deferred)
    return principal_for(session, user, "session", credential_id=ws.id, csrf_token=csrf_token_for(cookie))


def revoke_session(session: Session, cookie: str) -> None:
    """Sign out: the cookie stops working (idempotent; an unknown cookie is ignored)."""
    session.execute(
        sa.update(WebSession)
        .where(WebSession.session_hash == _sha256(cookie), WebSession.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
    )


def check_csrf(principal: Principal, given: str | None) -> None:
    """CsrfRejected unless ``given`` is the session's CSRF token (only cookie sessions have one)."""
    if principal.via != "session":
        return
    if not given or not principal.csrf_token or not hmac.compare_digest(given, principal.csrf_token):
        raise CsrfRejected(
            "a cookie-authenticated write needs its session's CSRF token (X-CSRF-Token header or csrf_token form field)"
        )
