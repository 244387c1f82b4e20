"""Identity endpoints: sign-in / sign-out / me (/auth), users (/users) and API tokens (/tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from lotline.api import pagination
from lotline.api.deps import (
    SESSION_COOKIE,
    AnonymousWriteSession,
    CurrentPrincipal,
    ReadSession,
    WriteSession,
    public,
    require,
)
from lotline.api.pagination import PAGED, CursorQ, LimitQ, Page
from lotline.api.schemas import Me, NewToken, SignedIn, TokenOut, UserOut
from lotline.auth import listings, service
from lotline.auth.schemas import PasswordIn, RolesIn, SignInIn, TokenIn, UserIn
from lotline.serialize import to_jsonable

router = APIRouter(tags=["users and access"])


def _me(principal) -> dict:
    return {
        "name": principal.name,
        "full_name": principal.full_name,
        "roles": sorted(principal.roles),
        "via": principal.via,
    }


@router.post("/auth/sign-in", dependencies=[public()], response_model=SignedIn)
def sign_in(data: SignInIn, request: Request, response: Response, session: AnonymousWriteSession) -> dict:
    """Check a name and password and open a web session (HttpOnly cookie); returns its CSRF token,
    which every cookie-authenticated write must send as ``X-CSRF-Token``."""
    principal = service.sign_in(session, data.name, data.password)
    new = service.create_session(session, principal, request.headers.get("user-agent"))
    response.set_cookie(
        SESSION_COOKIE,
        new.cookie,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        expires=new.expires_at,
        path="/",
    )
    return to_jsonable({**_me(new.principal), "csrf_token": new.csrf_token, "expires_at": new.expires_at})


@router.post("/auth/sign-out", status_code=status.HTTP_204_NO_CONTENT, dependencies=[require("self")])
def sign_out(request: Request, session: WriteSession) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.revoke_session(session, cookie)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/auth/me", dependencies=[require("self")], response_model=Me)
def me(principal: CurrentPrincipal) -> dict:
    return _me(principal)


@router.get("/users", dependencies=[require("users.manage")], response_model=Page[UserOut], responses=PAGED)
def list_users(request: Request, response: Response, session: ReadSession, limit: LimitQ = pagination.DEFAULT_LIMIT,
               cursor: CursorQ = None) -> dict:
    """Users by name, with their roles."""
    page = listings.users_page(session, after=pagination.decode("users", cursor), limit=limit)
    return pagination.respond(request, response, "users", to_jsonable(page.rows), page)


@router.post("/users", status_code=status.HTTP_201_CREATED, dependencies=[require("users.manage")],
             response_model=UserOut)
def add_user(data: UserIn, session: WriteSession) -> dict:
    return to_jsonable(service.user_row(session, service.add_user(session, data)))


@router.post("/users/{name}/disable", dependencies=[require("users.manage")], response_model=UserOut)
def disable_user(name: str, session: WriteSession) -> dict:
    return to_jsonable(service.user_row(session, service.disable_user(session, name)))


@router.put("/users/{name}/roles", dependencies=[require("users.manage")], response_model=UserOut)
def set_roles(name: str, data: RolesIn, session: WriteSession) -> dict:
    return to_jsonable(service.user_row(session, service.set_roles(session, name, data.roles)))


@router.put("/users/{name}/password", status_code=status.HTTP_204_NO_CONTENT, dependencies=[require("users.manage")])
def set_password(name: str, data: PasswordIn, session: WriteSession) -> Response:
    service.set_password(session, name, data.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/tokens", dependencies=[require("tokens.manage")], response_model=Page[TokenOut], responses=PAGED)
def list_tokens(request: Request, response: Response, session: ReadSession, user: str | None = None,
                limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    """API tokens, oldest first (of one user with ``user``); never their secrets."""
    page = listings.tokens_page(session, user, after=pagination.decode("tokens", cursor), limit=limit)
    items = [to_jsonable(service.token_row(t, name)) for t, name in page.rows]
    return pagination.respond(request, response, "tokens", items, page)


@router.post("/tokens", status_code=status.HTTP_201_CREATED, dependencies=[require("tokens.manage")],
             response_model=NewToken)
def create_token(data: TokenIn, session: WriteSession) -> dict:
    """A new API token; ``token`` in the answer is shown this once and never again."""
    new = service.create_token(session, data)
    return to_jsonable({**service.token_row(new.token, data.user), "token": new.secret})


@router.post("/tokens/{ref}/revoke", dependencies=[require("tokens.manage")], response_model=TokenOut)
def revoke_token(ref: str, session: WriteSession) -> dict:
    return to_jsonable(service.revoke_token(session, ref))
