"""Sign in and out. The cookie holds an opaque session token: HttpOnly, Secure, SameSite=Strict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from lotline.web import session as web_session
from lotline.web.context import FORM_ERROR, Ctx, FormErrors, need

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # only paths of this site: never an absolute URL or a scheme-relative one
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/signin")
def signin_form(request: Request, next: str = "/"):
    return Ctx(request, None).render("signin.html", next=_safe_next(next), username="", errors={})


@router.post("/signin")
def signin(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    try:
        sess = web_session.sign_in(username, password)
    except web_session.NotSignedIn as exc:
        return Ctx(request, None).render(
            "signin.html", status_code=FORM_ERROR, next=_safe_next(next), username=username, errors=FormErrors.of(exc)
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        web_session.COOKIE, sess.token, max_age=web_session.SESSION_SECONDS, httponly=True, secure=True,
        samesite="strict", path="/",
    )
    return response


@router.post("/signout")
def signout(ctx: Annotated[Ctx, Depends(need("read"))]):
    web_session.sign_out(ctx.session.token)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(web_session.COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


signin_form.permission = signin.permission = None  # public: the sign-in form itself
