"""The PostgreSQL floor of a use case: the server's own execution time of the statements it sends.

``recording()`` captures every statement (text and parameters) sent through psycopg while a use case
runs, whatever layer sends it (the SQL runner, SQLAlchemy Core or the ORM); ``server_ms()`` replays
them in order on a connection under ``EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)`` and sums the
execution times the server reports — no network transfer, no client work, no driver. Statements
that change data are replayed too, so replay inside a transaction that is rolled back; transaction
control (SAVEPOINT, RELEASE, ROLLBACK TO, SET) is left out: the replaying transaction has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

_EXPLAINABLE = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "VALUES", "TABLE")


def _first_word(query: str) -> str:
    for line in query.splitlines():
        line = line.strip()
        if line and not line.startswith("--"):
            return line.split(None, 1)[0].upper()
    return ""


@contextmanager
def recording() -> Iterator[list[tuple[Any, Any]]]:
    """Every (statement, params) executed on any psycopg cursor inside the block, in order."""
    seen: list[tuple[Any, Any]] = []
    original = psycopg.Cursor.execute

    def execute(self, query, params=None, **kw):
        seen.append((query, params))
        return original(self, query, params, **kw)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]


def server_ms(conn: psycopg.Connection, statements: list[tuple[Any, Any]]) -> tuple[float, list[float]]:
    """Total and per-statement server execution time (ms) of ``statements`` replayed on ``conn``."""
    each = []
    with conn.cursor() as cur:
        for query, params in statements:
            if isinstance(query, bytes):
                query = query.decode()
            elif not isinstance(query, str):
                query = query.as_string(conn)
            if _first_word(query) not in _EXPLAINABLE:
                continue
            cur.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + query, params)
            each.append(cur.fetchone()[0][0]["Execution Time"])
    return sum(each), each
