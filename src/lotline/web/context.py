"""Per-request context of a console page: the session, the user, CSRF, and rendering.

``need(permission)`` is the dependency every console route declares (``Depends(need("read"))``):
it resolves the session cookie, refuses a missing permission and, for every state-changing method,
a missing or wrong CSRF token — before the route body runs, so a refused request writes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from lotline.auth.permissions import PERMISSIONS, declare
from lotline.errors import LotlineError, Unauthenticated
from lotline.serialize import decimal_text
from lotline.web import session as web_session

TEMPLATES = Path(__file__).parent / "templates"
# A form shown again with the services' messages is a normal page for a browser (a 4xx document
# would be logged as a failed load); machines use the JSON API and its problem+json statuses.
FORM_ERROR = 200


def _qty(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


def _when(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["qty"] = _qty
    env.filters["when"] = _when
    env.filters["pct"] = lambda v: "" if v is None else f"{float(v) * 100:.0f} %"
    return env


ENV = _env()


@dataclass
class Ctx:
    request: Request
    user: web_session.Principal | None

    @property
    def principal(self) -> web_session.Principal:
        """The signed-in user: every route behind ``need`` has one (only the sign-in page has none)."""
        if self.user is None:
            raise Unauthenticated("sign in first")
        return self.user

    @property
    def csrf(self) -> str:
        return (self.user.csrf_token if self.user else None) or ""

    def can(self, permission: str) -> bool:
        return self.user is not None and self.user.can(permission)

    def url(self, path: str, **params: Any) -> str:
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{path}?{urlencode(clean)}" if clean else path

    def render(self, template: str, status_code: int = 200, **data: Any) -> HTMLResponse:
        html = ENV.get_template(template).render(ctx=self, **data)
        return HTMLResponse(html, status_code=status_code)


def need(permission: str):
    """The dependency a console route declares: signed in (CSRF checked on writes) with ``permission``."""
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}: add it to lotline/auth/permissions.py")

    async def dependency(request: Request) -> Ctx:
        principal = await web_session.principal(request)
        principal.require(permission)
        return Ctx(request, principal)

    return declare(dependency, permission)  # read by the tests that walk app.routes


class FormErrors(dict):
    """Field name -> message; ``""`` holds the message that belongs to no single field."""

    @classmethod
    def of(cls, exc: Exception, fields: dict[str, str] | None = None) -> FormErrors:
        """The services' own messages, placed next to the field they are about.

        ``fields`` maps words of an error's details/location (e.g. "lot", "location") to form fields.
        """
        fields = fields or {}
        out = cls()
        if isinstance(exc, ValidationError):
            for err in exc.errors():
                loc = [str(p) for p in err.get("loc", ())]
                name = next((fields.get(p, p) for p in loc if fields.get(p, p)), "")
                out.setdefault(name, err["msg"].removeprefix("Value error, "))
            return out
        if isinstance(exc, LotlineError):
            keys = [k for k in (*exc.details.keys(), exc.details.get("kind")) if isinstance(k, str)]
            name = next((fields[k] for k in keys if k in fields), "")
            out[name] = exc.message
            return out
        raise exc


class Page:
    """Offset pagination for a list: page number, size, and links that keep the filters."""

    def __init__(self, request: Request, size: int = 50, total: int | None = None):
        try:
            self.number = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            self.number = 1
        self.size = size
        self.total = total
        self.request = request
        self.more = False  # set when a list fetched one row beyond the page (no total counted)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, math.ceil(self.total / self.size))

    def link(self, number: int) -> str:
        params = dict(self.request.query_params)
        params["page"] = str(number)
        return f"{self.request.url.path}?{urlencode(params)}"


def utc_text(value: str) -> str | None:
    """A form's datetime-local value (no zone; the forms say UTC) as an ISO text with the zone."""
    value = (value or "").strip()
    if not value:
        return None
    if value.endswith("Z") or "+" in value[10:] or value[10:].count("-") > 0:
        return value
    return value + "Z" if "T" in value else value + "T00:00:00Z"
