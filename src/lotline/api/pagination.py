"""Cursor pagination of every API listing: ``limit`` + opaque ``cursor`` in, a page out.

A listing answers ``{"items": [...], "has_more": bool, "next_cursor": str | null}`` and, when
there is more, a ``Link: <url>; rel="next"`` header (RFC 8288) whose URL is the same request with
``cursor`` set. The cursor is the page's last key (``lotline.db.pages``), base64url-encoded with
the listing's name and a checksum: a cursor from another listing, or one that was altered, is
refused as invalid input (422 problem+json naming the ``cursor`` parameter) rather than read as a
position. Services give the position as text values; ``respond`` turns it into the cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request, Response
from pydantic import BaseModel, Field

from lotline.db.pages import Page as KeyPage
from lotline.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1-{MAX_LIMIT})")]
CursorQ = Annotated[
    str | None,
    Query(max_length=4000, description="Opaque: the next_cursor (or Link rel=next) of the previous page"),
]

LINK_HEADER = {
    "Link": {
        "description": 'RFC 8288 `<url>; rel="next"` when there is a next page',
        "schema": {"type": "string"},
    }
}
# ``responses=PAGED`` on a listing route documents its Link header
PAGED: dict[int | str, dict[str, Any]] = {200: {"headers": LINK_HEADER}}


class Page(BaseModel, Generic[T]):
    """One page of a listing."""

    items: list[T]
    has_more: bool = Field(description="True when there is a next page (see next_cursor and the Link header)")
    next_cursor: str | None = Field(description="Pass as ?cursor= to get the next page; null on the last page")


def _checksum(listing: str, payload: str) -> str:
    return hashlib.sha256(f"{listing}\x00{payload}".encode()).hexdigest()[:12]


def encode(listing: str, after: Sequence[str]) -> str:
    payload = json.dumps(list(after), separators=(",", ":"))
    raw = json.dumps([listing, payload, _checksum(listing, payload)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(listing: str, cursor: str | None) -> tuple[str, ...] | None:
    """The position a cursor names; InvalidInput for one this listing did not give."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, payload, check = json.loads(raw)
        after = json.loads(payload)
        ok = name == listing and check == _checksum(listing, payload) and isinstance(after, list)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        ok = False
    if not ok:
        raise InvalidInput(f"cursor {cursor[:40]!r} names no page of {listing}: use the next_cursor a page gave",
                           parameter="cursor")
    return tuple(str(v) for v in after)


def respond(request: Request, response: Response, listing: str, items: list, page: KeyPage) -> dict:
    """The page body, and the Link header to the next page when there is one."""
    cursor = encode(listing, page.after) if page.after is not None else None
    if cursor is not None:
        url = request.url.include_query_params(cursor=cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return {"items": items, "has_more": cursor is not None, "next_cursor": cursor}
