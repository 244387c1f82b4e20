"""RFC 9457 problem+json responses: the one table mapping domain errors to HTTP statuses."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from lotline import errors
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


def status_for(exc: errors.LotlineError) -> int:
    return next(status for cls, status in STATUS if isinstance(exc, cls))


def problem(status: int, code: str, title: str, detail: str, **extra) -> JSONResponse:
    body = {"type": f"urn:lotline:problem:{code}", "title": title, "status": status, "detail": detail, "code": code}
    body.update(to_jsonable(extra))
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


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


async def request_validation_handler(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = _validation_errors(exc.errors())
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errs)
    return problem(422, "invalid_input", "Invalid input", detail, errors=errs)


async def pydantic_validation_handler(_request: Request, exc: ValidationError) -> JSONResponse:
    errs = _validation_errors(exc.errors())
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errs)
    return problem(422, "invalid_input", "Invalid input", detail, errors=errs)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid credential: missing, unknown, expired or revoked token or session (problem+json)"},
    403: {"description": "The credential lacks the route's permission, or a CSRF token or signature was refused (problem+json)"},
    404: {"description": "Unknown reference (problem+json)"},
    409: {"description": "Conflict: duplicate, illegal state change, concurrent request (problem+json)"},
    413: {"description": "The request body is larger than the server's limit (problem+json)"},
    422: {"description": "Invalid input or a lot rule refused the request (problem+json)"},
    503: {"description": "Busy (admission queue full), a statement timed out, or the database is unreachable; "
                         "see Retry-After (problem+json)"},
}
