"""The one SQL runner: load a ``.sql`` file, bind, execute, pipeline.

Every hand-written statement — the ``<package>/sql/*.sql`` files and the few inline ones — runs
through these functions, on the psycopg connection under the caller's session, so it shares the
session's transaction and snapshot.

Invariants:
- One placeholder style, psycopg's named ``%(name)s``, each parameter cast in the SQL
  (``%(lot_id)s::uuid``, ``%(ids)s::uuid[]``). A ``.sql`` file is always run with a parameter
  mapping (``{}`` when it takes none), so a literal ``%`` in it is always written ``%%`` and
  it holds one statement. Comments are parsed too: a ``%(x)s`` there must be a given parameter.
- A statement run without parameters (``params=None``) is sent verbatim, nothing parsed: DDL and
  migration files may hold ``%``, ``:`` and several statements.
- Database errors leave as ``sqlalchemy.exc.DBAPIError`` whatever the target, so the transaction
  boundary (``db.session``) translates them exactly as it does for ORM statements.
- Nothing here commits, and nothing flushes (neither does ``session.execute(text(...))``): flush
  the session first when a statement must see pending ORM changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

import psycopg
import sqlalchemy as sa
from psycopg.rows import RowFactory, dict_row, namedtuple_row, tuple_row
from psycopg.sql import SQL, Composed
from sqlalchemy.orm import Session

#: where a statement runs: a session, an SQLAlchemy connection (Alembic's ``op.get_bind()``), or a
#: plain psycopg connection (the generator's bulk loads).
Target = Session | sa.Connection | psycopg.Connection
#: row shapes: named tuples (``row.sku``), bare tuples (cheapest, for the largest results), dicts.
RowKind = Literal["named", "tuple", "dict"]
Params = Mapping[str, Any] | None
# psycopg's own ``Query`` also admits t-string Templates, which carry their values and take no params.
Query = str | bytes | SQL | Composed

_FACTORIES: dict[str, RowFactory[Any]] = {"named": namedtuple_row, "tuple": tuple_row, "dict": dict_row}


@cache
def load_sql(package: str, name: str) -> str:
    """Text of ``sql/<name>.sql`` inside ``package`` (e.g. ``load_sql("lotline.trace", "closure")``)."""
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def _quoted(value: str) -> str:
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if '"' in value:
        value = value.replace('"', '\\"')
    return f'"{value}"'


# how each element type is written inside an array literal: bare where its text can hold no
# delimiter (uuid, numbers), double-quoted otherwise (a quoted element is never NULL, whatever it reads)
_ELEMENT: dict[type, Callable[[Any], str]] = {
    uuid.UUID: str, int: str, Decimal: lambda v: "NaN" if v.is_nan() else str(v), bool: lambda v: "t" if v else "f",
    str: _quoted, datetime: lambda v: f'"{v.isoformat()}"', date: lambda v: f'"{v.isoformat()}"',
}


def _element(value: Any) -> str:
    try:
        return _ELEMENT[type(value)](value)
    except KeyError:
        pass
    for kind in (bool, int, str, datetime, date, uuid.UUID, Decimal):  # a subclass (an enum): by its base
        if isinstance(value, kind):
            return _ELEMENT[kind](value)
    raise TypeError(f"no array literal element for {type(value).__name__}")


def array_literal(values: Iterable[Any]) -> str:
    """One PostgreSQL array literal (``'{…}'``) for a one-dimensional list, to bind where the SQL casts it
    (``%(ids)s::uuid[]``): psycopg then sends one string instead of dumping the list element by element,
    a Python loop that costs more than the statement for the set-based writes' long arrays.

    Elements: None (NULL), UUID, str, int, Decimal, bool, date, datetime — the same text psycopg's
    own dumpers send for each; any other type is refused (TypeError), never guessed.
    """
    element, known = _element, _ELEMENT
    return "{" + ",".join("NULL" if v is None else known[t](v) if (t := type(v)) in known else element(v)
                          for v in values) + "}"


def with_array_literals(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with every list or tuple value made one array literal (``array_literal``)."""
    return {k: array_literal(v) if isinstance(v, list | tuple) else v for k, v in params.items()}


def driver_connection(target: Target) -> psycopg.Connection:
    """The psycopg connection under ``target`` (a session's begins its transaction if needed)."""
    if isinstance(target, psycopg.Connection):
        return target
    conn = target.connection() if isinstance(target, Session) else target
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection), "lotline runs on the psycopg driver"
    return raw


def _wrap(statement: Query, params: Params, exc: psycopg.Error) -> sa.exc.DBAPIError:
    # the same exception type SQLAlchemy raises, so db.errors translates it at the boundary
    wrapped = sa.exc.DBAPIError.instance(str(statement), params, exc, psycopg.Error)
    assert isinstance(wrapped, sa.exc.DBAPIError)  # a psycopg.Error is always wrapped as one
    return wrapped


def execute(target: Target, statement: Query, params: Params = None) -> int:
    """Run a statement for its effect; the number of rows it touched (-1 when not applicable)."""
    raw = driver_connection(target)
    try:
        with raw.cursor() as cur:
            cur.execute(statement, params)
            return cur.rowcount
    except psycopg.Error as exc:
        raise _wrap(statement, params, exc) from exc


def rows(target: Target, statement: Query, params: Params = None, *, kind: RowKind = "named") -> list[Any]:
    """Every row of a statement, as ``kind`` (named tuples by default)."""
    raw = driver_connection(target)
    try:
        with raw.cursor(row_factory=_FACTORIES[kind]) as cur:
            cur.execute(statement, params)
            return cur.fetchall()
    except psycopg.Error as exc:
        raise _wrap(statement, params, exc) from exc


def one(target: Target, statement: Query, params: Params = None, *, kind: RowKind = "named") -> Any:
    """The first row of a statement, or None when it returns none."""
    raw = driver_connection(target)
    try:
        with raw.cursor(row_factory=_FACTORIES[kind]) as cur:
            cur.execute(statement, params)
            return cur.fetchone()
    except psycopg.Error as exc:
        raise _wrap(statement, params, exc) from exc


def scalar(target: Target, statement: Query, params: Params = None) -> Any:
    """The first column of the first row, or None when there is no row."""
    row = one(target, statement, params, kind="tuple")
    return None if row is None else row[0]


@contextmanager
def pipelined(
    target: Target, statement: Query, params: Params = None, *, kind: RowKind = "tuple"
) -> Iterator[Callable[[], list[Any]]]:
    """Send a statement now, fetch its rows later: ``with pipelined(...) as fetch: ...; fetch()``.

    psycopg's pipeline mode: the server executes the statement while this process goes on with
    its own work (two cores instead of one taking turns). ``pipelined_many`` of one statement.
    """
    with pipelined_many(target, [(statement, params)], kind=kind) as (fetch,):
        yield fetch


@contextmanager
def pipelined_many(
    target: Target, statements: Sequence[tuple[Query, Params]], *, kind: RowKind = "tuple"
) -> Iterator[list[Callable[[], list[Any]]]]:
    """Send several reads now, fetch each one's rows later, in one round trip:
    ``with pipelined_many(s, [(a, pa), (b, pb)]) as (fetch_a, fetch_b): ...``.

    As ``pipelined`` for one statement: the server runs them back to back, in order, while this
    process goes on with its own work; each has its own cursor, so each one's rows stay fetchable
    whatever the order they are fetched in. An error in any of them is raised at the first fetch
    (or on leaving the block), as ``sqlalchemy.exc.DBAPIError``.
    """
    raw = driver_connection(target)
    statement: Query = ""
    params: Params = None
    try:
        with raw.pipeline():
            cursors = [raw.cursor(row_factory=_FACTORIES[kind]) for _ in statements]
            try:
                for cur, (statement, params) in zip(cursors, statements, strict=True):
                    cur.execute(statement, params)
                yield [cur.fetchall for cur in cursors]
            finally:
                for cur in cursors:
                    cur.close()
    except psycopg.Error as exc:
        raise _wrap(statement, params, exc) from exc


def execute_all(
    target: Target, statements: Sequence[tuple[Query, Params]], *, kind: RowKind | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> list[Any] | None:
    """Run several statements in order with one wait: sent in one pipeline, synced once.

    For the writes of a posting that need no answer (the rules were checked before): the server
    runs them back to back instead of answering each before the next is sent. Each statement
    still starts after the one before it has finished (its own snapshot sees their effects). With
    ``kind``, the rows of the last statement are returned. An error in any of them is raised at
    the sync, as ``sqlalchemy.exc.DBAPIError``, and the transaction is aborted.

    ``meanwhile``: called once every statement has been sent and before the sync — this process's
    own work while the server runs them (it must send nothing on this connection).
    """
    raw = driver_connection(target)
    statement: Query = ""
    params: Params = None
    try:
        with raw.pipeline(), raw.cursor(row_factory=_FACTORIES[kind or "tuple"]) as cur:
            for statement, params in statements:
                cur.execute(statement, params)
            if meanwhile is not None:
                meanwhile()
            if kind is not None:
                return cur.fetchall()
    except psycopg.Error as exc:
        raise _wrap(statement, params, exc) from exc
    return None
