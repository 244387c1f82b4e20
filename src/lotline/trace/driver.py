"""Running the trace's statements on the session's own psycopg connection.

Traces fetch tens of thousands of rows: psycopg's C row loading into bare tuples costs several
times less per row than SQLAlchemy Row objects. Same connection and transaction as the session, so
the snapshot is shared. Each statement declares the output columns the caller unpacks by name, and
the cursor's description is checked against them once per statement, so a column added, dropped or
moved in a .sql file fails loudly instead of shifting every value after it. psycopg errors are
re-raised as SQLAlchemy's DBAPIError so ``lotline.db.errors`` translates them at the boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa
from psycopg.rows import tuple_row
from sqlalchemy.orm import Session

from lotline.db import load_sql

_PKG = "lotline.trace"


def _check_columns(name: str, cur: psycopg.Cursor, columns: Sequence[str]) -> None:
    got = tuple(c.name for c in cur.description or ())
    if got != tuple(columns):
        raise RuntimeError(f"trace/sql/{name}.sql returns columns {got}, the engine expects {tuple(columns)}")


def fetch(session: Session, name: str, params: dict, columns: Sequence[str]) -> list[tuple]:
    """Rows of sql/<name>.sql as tuples in the order of ``columns`` (checked)."""
    text = load_sql(_PKG, name)
    dbapi = session.connection().connection.driver_connection
    try:
        with dbapi.cursor(row_factory=tuple_row) as cur:
            cur.execute(text, params)
            _check_columns(name, cur, columns)
            return cur.fetchall()
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(text, params, exc, psycopg.Error) from exc


@contextmanager
def pipelined(
    session: Session, name: str, params: dict, columns: Sequence[str]
) -> Iterator[Callable[[], list[tuple]]]:
    """Send sql/<name>.sql now, fetch its rows later: ``with pipelined(...) as rows: ...; rows()``.

    The statement runs in psycopg's pipeline mode, so the server executes it while this process
    goes on with its own work on earlier rows (two cores instead of one taking turns). The
    pipeline is closed on exit.
    """
    text = load_sql(_PKG, name)
    dbapi = session.connection().connection.driver_connection

    try:
        with dbapi.pipeline(), dbapi.cursor(row_factory=tuple_row) as cur:
            cur.execute(text, params)

            def rows() -> list[tuple]:
                result = cur.fetchall()
                _check_columns(name, cur, columns)
                return result

            yield rows
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(text, params, exc, psycopg.Error) from exc
