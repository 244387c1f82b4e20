"""Routes of the public response page (HTML forms, no JavaScript needed)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from lotline import db
from lotline.api.deps import public
from lotline.errors import InvalidStateTransition, LotlineError, NotFound
from lotline.recalls import consignees
from lotline.recalls import strategy as strategy_mod
from lotline.recalls.completion_schemas import ResponseIn

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 64 * 1024


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lotline.respond", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _page(status: int, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("errors", [])
    ctx.setdefault("done", False)
    ctx.setdefault("form", {})
    ctx.setdefault("message", None)
    return HTMLResponse(_env().get_template("respond.html.j2").render(**ctx), status_code=status)


def _context(session, token: str) -> dict[str, Any]:
    target = consignees.resolve_link(session, token)
    strat = strategy_mod.require(session, target.case)
    last = consignees.responses(session, target.case, target.consignee.id)
    return {
        "recall_number": target.case.recall_number,
        "name": target.consignee.name,
        "product": strat.product_description,
        "reason": strat.reason,
        "deadline": strat.response_deadline,
        "received": consignees.received_by(session, target.case, target.consignee),
        "last_response": last[-1] if last else None,
    }


def _refusal(exc: LotlineError) -> HTMLResponse:
    status = 404 if isinstance(exc, NotFound) else 410 if isinstance(exc, InvalidStateTransition) else 422
    return _page(status, message=exc.message, ctx=None)


@router.get("/respond/{token}", response_class=HTMLResponse, dependencies=[public()])
def show(token: str) -> HTMLResponse:
    try:
        with db.read_snapshot() as s:
            ctx = _context(s, token)
    except LotlineError as exc:
        return _refusal(exc)
    return _page(200, ctx=ctx)


def _parse(form: dict[str, str]) -> dict[str, Any]:
    def qty(name: str) -> Decimal | str:
        text = (form.get(name) or "0").strip() or "0"
        try:
            return Decimal(text)
        except InvalidOperation:
            return text  # let validation name it
    subs = []
    for line in (form.get("sub_accounts") or "").splitlines():
        if not line.strip():
            continue
        name, *contacts = [p.strip() for p in line.split(",")]
        entry: dict[str, Any] = {"name": name, "email": None, "phone": None}
        for c in contacts:
            if c:
                entry["email" if "@" in c else "phone"] = c
        subs.append(entry)
    return {
        "holds_product": form.get("holds_product") == "yes",
        "quantity_on_hand": qty("quantity_on_hand"),
        "quantity_returned": qty("quantity_returned"),
        "quantity_destroyed": qty("quantity_destroyed"),
        "forwarded": form.get("forwarded") == "yes" or bool(subs),
        "sub_accounts": subs,
        "responder": (form.get("responder") or "").strip(),
        "notes": (form.get("notes") or "").strip() or None,
    }


@router.post("/respond/{token}", response_class=HTMLResponse, dependencies=[public()])
async def submit(token: str, request: Request) -> HTMLResponse:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return _page(413, message="The form is too large.", ctx=None)
    # a urlencoded form of a few fields: parsed here, no multipart parser needed
    try:
        raw = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        return _page(422, message="The form was not sent as UTF-8 text.", ctx=None)
    raw_error = [] if "holds_product" in raw else ["Please say whether you still hold the product."]
    try:
        data = ResponseIn(**_parse(raw)) if not raw_error else None
    except ValidationError as exc:
        data = None
        raw_error = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
    try:
        if data is None:
            with db.read_snapshot() as s:
                return _page(422, ctx=_context(s, token), errors=raw_error, form=raw)
        with db.transaction() as s:
            consignees.respond_by_link(s, token, data)
        with db.read_snapshot() as s:
            return _page(200, ctx=_context(s, token), done=True)
    except LotlineError as exc:
        return _refusal(exc)
