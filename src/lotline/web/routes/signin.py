"""Sign in and out. The cookie holds auth's opaque session token: HttpOnly, Secure, SameSite=Strict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from lotline.auth.permissions import PUBLIC
from lotline.web import session as web_session
from lotline.web.context import FORM_ERROR, Ctx, FormErrors, need

router = APIRouter()


def public() -> None:
    """Marks the sign-in form: the one console page that needs no session."""


public.permission = PUBLIC


def _safe_next(target: str | None) -> str:
    # only paths of this site: never an absolute URL or a scheme-relative one
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/signin", dependencies=[Depends(public)])
def signin_form(request: Request, next: str = "/"):
    return Ctx(request, None).render("signin.html", next=_safe_next(next), username="", errors={})


@router.post("/signin", dependencies=[Depends(public)])
def signin(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    try:
        new = web_session.sign_in(request, username, password)
    except web_session.Unauthenticated as exc:
        return Ctx(request, None).render(
            "signin.html", status_code=FORM_ERROR, next=_safe_next(next), username=username, errors=FormErrors.of(exc)
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        web_session.COOKIE, new.cookie, expires=new.expires_at, httponly=True, secure=True, samesite="strict", path="/"
    )
    return response


@router.post("/signout")
def signout(ctx: Annotated[Ctx, Depends(need("self"))]):
    web_session.sign_out(ctx.request)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(web_session.COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response
