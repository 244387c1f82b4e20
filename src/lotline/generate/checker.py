"""The invariant checker: set-based SQL that proves a database satisfies the posting invariants.

Each check in ``sql/check_*.sql`` returns (violations, sample) — a count and a few offending ids —
so a failure names what is wrong. Foreign keys are checked too (anti-joins built from the catalog),
because the generator loads with foreign-key triggers off. Works on any lotline database, not
only generated ones: ``lotline generate --check-only``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql as pgsql

from lotline.db import sql

_PKG = "lotline.generate"


@dataclass(frozen=True)
class CheckResult:
    name: str
    description: str
    violations: int
    sample: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.violations == 0


def check_names() -> list[str]:
    files = resources.files(_PKG).joinpath("sql").iterdir()
    return sorted(f.name[:-4] for f in files if f.name.startswith("check_") and f.name.endswith(".sql"))


def _description(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        if body.startswith("Output:"):
            break
        lines.append(body.removeprefix("Invariant:").strip())
    return " ".join(lines)


def _foreign_keys(conn: psycopg.Connection) -> list[tuple[str, str, str, str, str]]:
    """(constraint, child table, child column, parent table, parent column) of single-column FKs."""
    return sql.rows(
        conn,
        """
        SELECT c.conname, ct.relname, ca.attname, pt.relname, pa.attname
          FROM pg_constraint c
          JOIN pg_class ct ON ct.oid = c.conrelid
          JOIN pg_class pt ON pt.oid = c.confrelid
          JOIN pg_namespace n ON n.oid = ct.relnamespace
          JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = c.conkey[1]
          JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
         WHERE c.contype = 'f' AND n.nspname = current_schema() AND cardinality(c.conkey) = 1
         ORDER BY ct.relname, c.conname
        """,
        kind="tuple",
    )


def run_checks(conninfo: str, progress: Callable[[int, int], None] | None = None) -> list[CheckResult]:
    """Run every check in one REPEATABLE READ snapshot; returns one result per check."""
    with psycopg.connect(conninfo) as conn:
        sql.execute(conn, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        sql.execute(conn, "SET LOCAL work_mem = '256MB'")
        out = run_checks_on(conn, progress)
        conn.rollback()
    return out


def run_checks_on(conn: psycopg.Connection, progress: Callable[[int, int], None] | None = None) -> list[CheckResult]:
    """Run every check on an open connection, inside whatever transaction it is in (tests use the
    uncommitted world a test built through the services)."""
    progress = progress or (lambda done, total: None)
    names = check_names()
    out: list[CheckResult] = []
    fks = _foreign_keys(conn)
    total = len(names) + 1
    for n, name in enumerate(names, start=1):
        text = sql.load_sql(_PKG, name)
        t0 = time.perf_counter()
        violations, sample = sql.one(conn, text, {}, kind="tuple")
        out.append(CheckResult(name, _description(text), violations, sample, time.perf_counter() - t0))
        progress(n, total)
    t0 = time.perf_counter()
    bad = []
    for con, child, ccol, parent, pcol in fks:
        q = pgsql.SQL(
            "SELECT count(*) FROM {c} x WHERE x.{cc} IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM {p} y WHERE y.{pc} = x.{cc})"
        ).format(
            c=pgsql.Identifier(child),
            cc=pgsql.Identifier(ccol),
            p=pgsql.Identifier(parent),
            pc=pgsql.Identifier(pcol),
        )
        missing = sql.scalar(conn, q)
        if missing:
            bad.append(f"{con}: {missing}")
    out.append(
        CheckResult(
            "check_11_foreign_keys",
            f"every foreign key ({len(fks)} constraints) points at an existing row",
            sum(int(b.rsplit(": ", 1)[1]) for b in bad),
            ", ".join(bad[:5]) or None,
            time.perf_counter() - t0,
        )
    )
    progress(total, total)
    return out
