"""Audit viewer (filter by record, lot, user, time) and admin (users, roles, tokens) over lotline.auth/audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from lotline import db
from lotline.audit import service as audit
from lotline.auth import service as auth
from lotline.auth.permissions import ROLES
from lotline.auth.schemas import TokenIn, UserIn
from lotline.errors import InvalidInput, LotlineError
from lotline.lots import service as lots
from lotline.web.context import FORM_ERROR, Ctx, FormErrors, Page, need, utc_text

router = APIRouter()


def _time(text: str, what: str) -> datetime | None:
    value = utc_text(text)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a date and time (e.g. 2026-03-01T12:00)", field=what) from None
AUDIT_PAGE = 100


@router.get("/audit")
def audit_page(ctx: Annotated[Ctx, Depends(need("audit.read"))], table: str = "", record: str = "", lot: str = "",
               user: str = "", since: str = "", until: str = ""):
    page = Page(ctx.request, AUDIT_PAGE)
    error, rows = None, []
    with db.read_snapshot() as s:
        try:
            lot_id = lots.find_lot(s, lot).id if lot else None
            found = audit.entries(
                s, table_name=table or None, record_id=record or None, lot_id=lot_id,
                actor=user or None,
                since=_time(since, "since"), until=_time(until, "until"),
                limit=page.offset + page.size + 1,
            )
            found.reverse()  # newest first
            page.more = len(found) > page.offset + page.size
            rows = found[page.offset:page.offset + page.size]
        except LotlineError as exc:
            error = exc.message
    return ctx.render("audit.html", rows=rows, page=page, error=error,
                      f={"table": table, "record": record, "lot": lot, "user": user, "since": since, "until": until})


def _admin(ctx: Ctx, *, errors=None, form=None, new_token=None, status_code=200):
    with db.read_snapshot() as s:
        users = auth.list_users(s) if ctx.can("users.manage") else []
        tokens = auth.list_tokens(s) if ctx.can("tokens.manage") else []
    return ctx.render("admin.html", status_code=status_code, users=users, tokens=tokens, roles=ROLES,
                      errors=errors or {}, form=form or {}, new_token=new_token)


@router.get("/admin")
def admin(ctx: Annotated[Ctx, Depends(need("users.manage"))]):
    return _admin(ctx)


def _do(ctx: Ctx, step, form: dict, fields: dict[str, str]):
    try:
        with db.transaction() as s:
            result = step(s)
    except (LotlineError, ValidationError) as exc:
        return _admin(ctx, errors=FormErrors.of(exc, fields), form=form, status_code=FORM_ERROR), None
    return None, result


@router.post("/admin/users")
def add_user(ctx: Annotated[Ctx, Depends(need("users.manage"))], name: Annotated[str, Form()] = "",
             full_name: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
             role: Annotated[list[str], Form()] = [], password: Annotated[str, Form()] = ""):  # noqa: B006
    form = {"name": name, "full_name": full_name, "email": email, "roles": role}
    page, _ = _do(ctx, lambda s: auth.add_user(s, UserIn(name=name, full_name=full_name or name, email=email or None,
                                                        roles=role, password=password or None)),
                  form, {"name": "name", "full_name": "full_name", "roles": "role", "password": "password", "email": "email"})
    return page or RedirectResponse("/admin", status_code=303)


@router.post("/admin/users/{name}/roles")
def set_roles(ctx: Annotated[Ctx, Depends(need("users.manage"))], name: str,
              role: Annotated[list[str], Form()] = []):  # noqa: B006
    page, _ = _do(ctx, lambda s: auth.set_roles(s, name, role), {}, {"roles": f"roles-{name}"})
    return page or RedirectResponse("/admin", status_code=303)


@router.post("/admin/users/{name}/disable")
def disable_user(ctx: Annotated[Ctx, Depends(need("users.manage"))], name: str):
    page, _ = _do(ctx, lambda s: auth.disable_user(s, name), {}, {})
    return page or RedirectResponse("/admin", status_code=303)


@router.post("/admin/tokens")
def create_token(ctx: Annotated[Ctx, Depends(need("tokens.manage"))], token_user: Annotated[str, Form()] = "",
                 token_name: Annotated[str, Form()] = "", expires_at: Annotated[str, Form()] = ""):
    user, name = token_user, token_name
    form = {"token_user": user, "token_name": name}
    page, new = _do(ctx, lambda s: auth.create_token(s, TokenIn(user=user, name=name, expires_at=utc_text(expires_at))),
                    form, {"user": "token_user", "name": "token_name", "expires_at": "expires_at"})
    # the secret is shown once, on this response only; it is never stored in clear
    return page or _admin(ctx, new_token=new.secret)


@router.post("/admin/tokens/{ref}/revoke")
def revoke_token(ctx: Annotated[Ctx, Depends(need("tokens.manage"))], ref: str):
    page, _ = _do(ctx, lambda s: auth.revoke_token(s, ref), {}, {})
    return page or RedirectResponse("/admin", status_code=303)
