"""Keyset pagination for listings: one page of a query after a position, and the next position.

``page(session, query, keys, key_of, after=..., limit=...)`` orders ``query`` by ``keys`` (all
ascending, or all descending), keeps the rows strictly after ``after`` (a tuple of the keys'
values as text, compared in SQL with a row comparison, so an index on the keys serves it) and
fetches ``limit + 1`` rows to know whether there is more. ``key_of(row)`` gives a row's key
values; the keys must identify a row (end them with a unique column), or rows sharing a key
could be skipped or repeated between pages.

The position is the last row's key, not an offset: rows added or removed before it do not shift
the next page. Cursors (their encoding, checks and Link headers) belong to the API
(``lotline.api.pagination``); services take and give plain key tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    after: tuple[str, ...] | None  # the position of the next page; None: this is the last one


def page(
    session: Session,
    query: sa.Select,
    keys: Sequence[Any],  # columns or ORM attributes
    key_of: Callable[[Any], Sequence[Any]],
    *,
    after: Sequence[str] | None,
    limit: int,
    descending: bool = False,
) -> Page:
    ordered = query.order_by(None).order_by(*[k.desc() if descending else k.asc() for k in keys])
    if after is not None:
        if len(after) != len(keys):
            raise ValueError(f"a position of this listing has {len(keys)} values, not {len(after)}")
        bound = sa.tuple_(*[sa.cast(sa.literal(str(v)), k.type) for k, v in zip(keys, after, strict=True)])
        here = sa.tuple_(*keys)
        ordered = ordered.where(here < bound if descending else here > bound)
    rows = list(session.execute(ordered.limit(limit + 1)).all())
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, tuple(_text(v) for v in key_of(rows[-1])))


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
