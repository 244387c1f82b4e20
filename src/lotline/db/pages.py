"""Keyset pagination for listings: one page of a query after a position, and the next position.

``page(session, query, keys, key_of, after=..., limit=...)`` orders ``query`` by ``keys`` (all
ascending, or all descending), keeps the rows strictly after ``after`` (a tuple of the keys'
values as text, compared in SQL with a row comparison, so an index on the keys serves it) and
fetches ``limit + 1`` rows to know whether there is more. ``key_of(row)`` gives a row's key
values; the keys must identify a row (end them with a unique column), or rows sharing a key
could be skipped or repeated between pages.

The position is the last row's key, not an offset: rows added or removed before it do not shift
the next page. Cursors (their encoding, checks and Link headers) belong to the API
(``lotline.api.pagination``); services take and give plain key tuples. A position with the wrong
number of values is InvalidInput; one whose values do not cast to the keys' types fails in SQL
(SQLSTATE 22xxx), which the boundary translates to InvalidInput too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.errors import InvalidInput


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
            raise InvalidInput(f"a cursor of this listing names {len(keys)} values, not {len(after)}",
                               parameter="cursor")
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
