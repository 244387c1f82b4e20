"""RFC 9457 problem+json: the one table mapping domain errors to HTTP statuses, the handlers that
answer every error in that shape, and the OpenAPI components that document them.

Every error the JSON API gives is ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and a stable machine ``code``:

    status  code                  when
    400     malformed_json        the body is not JSON (a JSON body that breaks a rule is 422)
    401     unauthenticated       no valid credential
    403     permission_denied     the credential lacks the route's permission (and CSRF, signatures)
    404     not_found / no_route  an unknown reference, or no route at that path
    405     method_not_allowed    the path exists, the method does not (``Allow`` lists those that do)
    409     conflict, ...         duplicates, illegal state changes, concurrent requests
    413     body_too_large        the request body is over the limit
    422     invalid_input, ...    input that breaks a rule (``errors`` lists each field), lot rules
    503     unavailable           the database or another dependency is unreachable

``OPTIONS`` on any path of the app answers ``204 No Content`` with an ``Allow`` header listing
exactly the methods the path's routes accept (RFC 9110 §9.3.7), whoever asks — it reveals no more
than the OpenAPI document, which is public. ``install(app)`` registers the handlers and the
OpenAPI post-processing (shared ``components.responses``, the ``Problem`` schema, the security
schemes) with one line in app.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from lotline import errors
from lotline.api.deps import declared_permission, walk_routes
from lotline.auth import permissions
from lotline.serialize import to_jsonable

STATUS: list[tuple[type[errors.LotlineError], int]] = [
    (errors.NotFound, 404),
    (errors.InvalidInput, 422),
    (errors.Conflict, 409),
    (errors.RuleViolation, 422),
    (errors.Unavailable, 503),
    (errors.Unauthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.LotlineError, 500),
]

MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/v1"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def status_for(exc: errors.LotlineError) -> int:
    return next(status for cls, status in STATUS if isinstance(exc, cls))


def problem(status: int, code: str, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra) -> JSONResponse:
    body = {"type": f"urn:lotline:problem:{code}", "title": title, "status": status, "detail": detail, "code": code}
    body.update(to_jsonable(extra))
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def lotline_error_handler(_request: Request, exc: errors.LotlineError) -> JSONResponse:
    status = status_for(exc)
    title = type(exc).__name__
    response = problem(status, exc.code, title, exc.message, **({"details": exc.details} if exc.details else {}))
    if status == 401:
        # RFC 9110: a 401 names the scheme the client should use.
        response.headers["WWW-Authenticate"] = 'Bearer realm="lotline"'
    if status == 503:
        # busy, timed out or the database connection lost: worth trying again shortly
        response.headers["Retry-After"] = "1"
    return response


def _validation_errors(errs) -> list[dict]:
    out = []
    for e in errs:
        loc = [str(x) for x in e.get("loc", ())]
        out.append({"loc": loc, "msg": str(e.get("msg", "")).removeprefix("Value error, "), "type": e.get("type")})
    return out


def _invalid(errs: list[dict]) -> JSONResponse:
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errs)
    return problem(422, "invalid_input", "Invalid input", detail, errors=errs)


async def request_validation_handler(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = _validation_errors(exc.errors())
    broken = [e for e in errs if e["type"] == "json_invalid"]
    if broken:
        # Not JSON at all is a malformed request (400), not a rule broken by a JSON value (422).
        where = broken[0]["loc"][1:] or ["?"]
        return problem(400, "malformed_json", "Malformed JSON",
                       f"the request body is not valid JSON (at character {where[0]}): {broken[0]['msg']}")
    return _invalid(errs)


async def pydantic_validation_handler(_request: Request, exc: ValidationError) -> JSONResponse:
    return _invalid(_validation_errors(exc.errors()))


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app accepts at the request's path (plus OPTIONS), sorted."""
    found = {"OPTIONS"}
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            found.add(method)
    return sorted(found)


async def http_error_handler(request: Request, exc: StarletteHTTPException) -> Response:
    """Routing errors (unknown path, wrong method) and Starlette's own as problem+json; OPTIONS."""
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        return problem(405, "method_not_allowed", "Method not allowed",
                       f"{request.method} is not allowed on {request.url.path}; allowed: {allow}",
                       headers={**headers, "Allow": allow})
    if exc.status_code == 404 and exc.detail == "Not Found":
        return problem(404, "no_route", "No route", f"no route at {request.url.path}", headers=headers)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    code = {400: "bad_request", 413: "body_too_large", 503: "unavailable"}.get(exc.status_code, "http_error")
    return problem(exc.status_code, code, detail, detail, headers=headers)


# ------------------------------------------------------------------------------------ OpenAPI


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:lotline:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine code (see the table in the API description)")
    errors: list[dict[str, Any]] | None = Field(None, description="Per-field errors of a 422 invalid_input")
    details: dict[str, Any] | None = None


_ALLOW = {"Allow": {"description": "The methods the path accepts", "schema": {"type": "string"}}}
_RETRY = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "string"}}}
_AUTH = {"WWW-Authenticate": {"description": "The scheme to authenticate with", "schema": {"type": "string"}}}

# status -> (component name, description, headers)
SHARED: dict[int, tuple[str, str, dict]] = {
    400: ("MalformedJson", "The request body is not JSON", {}),
    401: ("Unauthenticated", "No valid credential: missing, unknown, expired or revoked token or session", _AUTH),
    403: ("PermissionDenied", "The credential lacks the route's permission, or a CSRF token or signature was refused", {}),
    404: ("NotFound", "Unknown reference, or no route at the path", {}),
    405: ("MethodNotAllowed", "The path does not accept the method; Allow lists the methods it does", _ALLOW),
    409: ("Conflict", "Duplicate, illegal state change, or a concurrent request", {}),
    413: ("BodyTooLarge", "The request body is over the size limit", {}),
    422: ("InvalidInput", "Invalid input (each field in errors) or a lot rule refused the request", {}),
    503: ("Unavailable", "Busy (admission queue full), a statement timed out, or the database or another "
                         "dependency is unreachable; see Retry-After", _RETRY),
}



def _statuses(method: str, operation: dict) -> list[int]:
    has_body = "requestBody" in operation
    secured = bool(operation.get("security", [{}])[0]) if "security" in operation else True
    out = [404, 422, 503]
    if has_body:
        out += [400]
    if has_body or method != "get":
        out += [413]  # the body limit (api/guard.py) holds for raw bodies too (EPCIS capture)
    if secured:
        out += [401, 403]
    elif method != "get":
        out += [401]  # sign-in: a refused name or password
    if method != "get":
        out += [409]
    return sorted(out)


def _document(spec: dict, public_operations: set[tuple[str, str]]) -> dict:
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["responses"] = {
        name: {
            "description": f"{description} (problem+json)",
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            **({"headers": headers} if headers else {}),
        }
        for name, description, headers in SHARED.values()
    }
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "An API token (`lotline token create`)"},
        "session": {"type": "apiKey", "in": "cookie", "name": "lotline_session",
                    "description": "The console's session cookie (writes also need X-CSRF-Token)"},
    }
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if (method, path) in public_operations:
                operation["security"] = [{}]
            else:
                operation["security"] = [{"bearer": []}, {"session": []}]
            responses = operation.setdefault("responses", {})
            for status in _statuses(method, operation):
                responses[str(status)] = {"$ref": f"#/components/responses/{SHARED[status][0]}"}
    return spec


def _public_operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.lower(), path)
        for path, route, inherited in walk_routes(app.routes)
        if declared_permission(route, inherited) == permissions.PUBLIC
        for method in getattr(route, "methods", ()) or ()
    }


def install(app: FastAPI) -> None:
    """Register the problem+json handlers and the OpenAPI post-processing on ``app``."""
    app.exception_handler(errors.LotlineError)(lotline_error_handler)
    app.exception_handler(RequestValidationError)(request_validation_handler)
    app.exception_handler(ValidationError)(pydantic_validation_handler)
    app.exception_handler(StarletteHTTPException)(http_error_handler)

    def openapi() -> dict:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description,
                               routes=app.routes)
            app.openapi_schema = _document(spec, _public_operations(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
