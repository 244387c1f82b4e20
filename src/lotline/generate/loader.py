"""Bulk-load a generated data set with COPY, then prove it with the checker.

``generate(url, scale, seed, force=...)``:
- refuses a database that already holds ledger data unless ``force`` (which TRUNCATEs every
  lotline table but users, credentials and the audit trail first — there is no append mode: the generated world is one consistent year);
- migrates the database to head if needed;
- in one transaction: drops the secondary indexes of the big tables (their exact definitions are
  read from the catalog and re-created afterwards), streams the simulation's rows with
  ``COPY ... FROM STDIN`` (psycopg 3; one batch in flight on a worker thread so Python generates
  while the server ingests), re-creates the indexes, sets the final lot statuses set-based;
- as superuser, foreign-key triggers are skipped during the load (``session_replication_role =
  replica``); the checker then proves referential integrity with anti-joins instead;
- audit: the COPY load bypasses row-level capture (replica mode, or the owner disabling the
  ``lotline_audit_insert/_update/_delete`` triggers inside the load's transaction) and records one ``bulk_load`` entry per
  table with its row count instead;
- ANALYZE + VACUUM (visibility map for index-only scans) and the invariant checker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from psycopg import sql as pgsql

from lotline.db import migrations, sql
from lotline.db.engine import create_engine
from lotline.errors import Conflict, InvalidInput
from lotline.generate.checker import run_checks
from lotline.generate.simulate import TABLE_NAMES, TABLES, Rows, Simulation

# Secondary indexes are dropped during the load only on these (the large) tables.
BIG_TABLES = [
    "lots",
    "inventory_movements",
    "inventory_movement_lines",
    "inventory_movement_lots",
    "work_order_executions",
    "work_order_lot_links",
    "lot_genealogy_edges",
    "sales_orders",
    "sales_order_lines",
    "sales_order_shipments",
    "sales_order_shipment_lines",
    "shipment_lot_links",
    "lot_shipments",
    "sales_order_line_fills",
    "inventory_balances",
    "kpi_ledger_days",
    "lot_flow_totals",
    "kpi_scrap_lots",
]
LEDGER_TABLES = ["items", "lots", "inventory_movements"]


@dataclass
class LoadReport:
    database: str
    scale: int
    seed: int
    rows: dict[str, int]
    seconds_generate_load: float
    seconds_indexes: float
    seconds_analyze: float
    most_used_raw_lot: dict | None = None
    check: list = field(default_factory=list)
    seconds_check: float = 0.0
    replica_mode: bool = False

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def copied_rows(self) -> int:
        """Rows streamed with COPY (lot_shipments and sales_order_line_fills are derived afterwards by INSERT … SELECT)."""
        return sum(n for table, n in self.rows.items() if table in TABLE_NAMES)

    @property
    def rows_per_second(self) -> float:
        """COPY throughput: copied rows over the simulate + COPY phase."""
        return self.copied_rows / self.seconds_generate_load if self.seconds_generate_load else 0.0


def psycopg_url(url: str) -> str:
    """A libpq URL (drops SQLAlchemy's +driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)


KEPT_TABLES = ("alembic_version", "audit_log", "signatures", "users", "user_roles", "api_tokens", "web_sessions")


def _audit_triggers(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(table, trigger) of every row-capturing audit trigger (statement triggers since 0031)."""
    return [
        (table, trigger)
        for (table, trigger) in sql.rows(
            conn,
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgfoid IN ('lotline_audit_statement()'::regprocedure, 'lotline_audit_row()'::regprocedure)"
            " AND NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace ORDER BY 1, 2",
            kind="tuple",
        )
    ]


def _record_bulk_load(conn: psycopg.Connection, counts: dict[str, int], scale: int, seed: int) -> None:
    """One audit entry per loaded table (the COPY bypassed row-level capture)."""
    sql.execute(
        conn,
        """
        INSERT INTO audit_log (actor, actor_kind, table_name, operation, new_values)
        SELECT a.name, a.kind, t.name, 'EVENT',
               jsonb_build_object('event', 'bulk_load', 'rows', t.n, 'scale', %(scale)s::int, 'seed', %(seed)s::int)
          FROM lotline_audit_actor() a, unnest(%(tables)s::text[], %(counts)s::bigint[]) AS t(name, n)
        """,
        {"scale": scale, "seed": seed, "tables": list(counts), "counts": list(counts.values())},
    )


def _has_data(conn: psycopg.Connection) -> dict[str, int]:
    out = {}
    for t in LEDGER_TABLES:
        n = sql.scalar(
            conn, pgsql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT 1) x").format(pgsql.Identifier(t))
        )
        if n:
            out[t] = n
    return out


def _secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of indexes on BIG_TABLES that back no constraint."""
    return sql.rows(
        conn,
        """
        SELECT i.relname, pg_get_indexdef(ix.indexrelid)
          FROM pg_index ix
          JOIN pg_class i ON i.oid = ix.indexrelid
          JOIN pg_class t ON t.oid = ix.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = current_schema()
           AND t.relname = ANY(%(tables)s::text[])
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)
         ORDER BY t.relname, i.relname
        """,
        {"tables": BIG_TABLES},
        kind="tuple",
    )


def _copy_all(conn: psycopg.Connection, buffers: dict[str, list[str]]) -> None:
    # COPY streams through psycopg's own copy API: the one kind of statement the runner (db.sql)
    # does not carry, because its rows come from Python, not from a result.
    cols = dict(TABLES)
    with conn.cursor() as cur:
        for table in TABLE_NAMES:
            lines = buffers[table]
            if not lines:
                continue
            stmt = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
                pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, cols[table]))
            )
            with cur.copy(stmt) as copy:
                chunk = 20_000
                for i in range(0, len(lines), chunk):
                    copy.write("".join(lines[i : i + chunk]))


def most_used_raw_lot(conn: psycopg.Connection) -> dict | None:
    """The received lot that went into the most executions (the worst-case forward trace)."""
    row = sql.one(
        conn,
        """
        SELECT l.id, l.lot_code, i.sku, count(DISTINCT e.work_order_execution_id) AS executions
          FROM lot_genealogy_edges e
          JOIN lots l ON l.id = e.parent_lot_id
          JOIN items i ON i.id = l.item_id
         WHERE l.received_at IS NOT NULL
         GROUP BY l.id, l.lot_code, i.sku
         ORDER BY executions DESC, l.id
         LIMIT 1
        """,
        kind="tuple",
    )
    if row is None:
        return None
    return {"lot_id": str(row[0]), "lot_code": row[1], "sku": row[2], "executions": row[3]}


def generate(  # noqa: C901 — the load's phases in order, each timed
    url: str,
    scale: int,
    seed: int = 7,
    *,
    force: bool = False,
    check: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> LoadReport:
    """Generate scale ``scale`` into the (migrated or empty) database at ``url``."""
    if scale < 1:
        raise InvalidInput(f"scale must be 1 or more, got {scale}")
    progress = progress or (lambda phase, done, total: None)
    engine = create_engine(url)
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()

    conninfo = psycopg_url(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        existing = _has_data(conn)
        if existing:
            if not force:
                raise Conflict(
                    f"database {conn.info.dbname!r} already holds data ({', '.join(existing)}); "
                    "use --force to wipe it first, or point --database-url at an empty database"
                )
            # Users, credentials and the append-only audit trail survive a wipe of the data.
            tables = sql.rows(
                conn,
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename <> ALL(%(kept)s::text[])",
                {"kept": list(KEPT_TABLES)},
                kind="tuple",
            )
            sql.execute(
                conn,
                pgsql.SQL("TRUNCATE {} CASCADE").format(
                    pgsql.SQL(", ").join(pgsql.Identifier(t) for (t,) in tables)
                )
            )
        superuser = sql.scalar(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        dbname = conn.info.dbname

    t0 = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        sql.execute(conn, "SET LOCAL synchronous_commit = off")
        sql.execute(conn, "SET LOCAL maintenance_work_mem = '512MB'")
        if superuser:
            sql.execute(conn, "SET LOCAL session_replication_role = replica")  # no triggers fire
        else:
            # Row-level audit capture is bypassed for the COPY load (one entry per table instead);
            # only the tables' owner may do this, and it is undone by the end of this transaction.
            audited = _audit_triggers(conn)
            for table, trigger in audited:
                sql.execute(
                    conn,
                    pgsql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(pgsql.Identifier(table), pgsql.Identifier(trigger)),
                )
        indexes = _secondary_indexes(conn)
        for name, _ddl in indexes:
            sql.execute(conn, pgsql.SQL("DROP INDEX {}").format(pgsql.Identifier(name)))
        # One COPY batch in flight on a worker thread while the simulation builds the next one;
        # the connection is only used by that thread until the load is over.
        pending: list[Future] = []

        def flush(buffers: dict[str, list[str]]) -> None:
            if pending:
                pending.pop().result()
            pending.append(pool.submit(_copy_all, conn, buffers))

        with ThreadPoolExecutor(max_workers=1) as pool:
            rows = Rows(flush)
            sim = Simulation(scale, seed, rows, progress=lambda d, n: progress("generate", d, n))
            sim.run()
            if pending:
                pending.pop().result()
        statuses = sim.final_statuses()
        t1 = time.perf_counter()
        # Before the indexes come back (cheaper): a lot with nothing left anywhere is 'consumed'.
        sql.execute(
            conn,
            """
            UPDATE lots l SET status = 'consumed'
             WHERE l.status = 'active'
               AND NOT EXISTS (SELECT 1 FROM inventory_balances b WHERE b.lot_id = l.id AND b.quantity > 0)
            """
        )
        for status, ids in statuses.items():
            if ids:
                sql.execute(
                    conn,
                    "UPDATE lots SET status = %(status)s::text WHERE id = ANY(%(ids)s::uuid[])",
                    {"status": status, "ids": ids},
                )
        # The derived lot -> shipment table, from the links just loaded (same SQL as migration 0017).
        derived_lot_shipments = sql.execute(conn, migrations.sql_text("core/0017_backfill_lot_shipments.sql"))
        # The derived fill state of every order line, from its defining view (migration 0020).
        derived_fills = sql.execute(
            conn, "INSERT INTO sales_order_line_fills SELECT * FROM sales_order_line_fills_source"
        )
        # The derived per-day ledger sums (migration 0025): the lines' triggers fired per COPY batch,
        # or not at all in replica mode; either way rebuild them from their defining view.
        sql.execute(conn, "DELETE FROM kpi_ledger_days")
        derived_days = sql.execute(conn, "INSERT INTO kpi_ledger_days SELECT * FROM kpi_ledger_days_source")
        # The derived per-lot ledger totals (migration 0030): rebuilt the same way, set-based.
        sql.execute(conn, "DELETE FROM lot_flow_totals")
        derived_totals = sql.execute(conn, "INSERT INTO lot_flow_totals SELECT * FROM lot_flow_totals_source")
        # The derived monthly fill sums (migration 0032): likewise rebuilt from their views.
        sql.execute(conn, "DELETE FROM kpi_line_fill_months")
        sql.execute(conn, "DELETE FROM kpi_order_fill_months")
        derived_fill_months = sql.execute(
            conn, "INSERT INTO kpi_line_fill_months SELECT * FROM kpi_line_fill_months_source"
        ) + sql.execute(conn, "INSERT INTO kpi_order_fill_months SELECT * FROM kpi_order_fill_months_source")
        # The derived scrap lot rows (migration 0034): likewise rebuilt from their view.
        sql.execute(conn, "DELETE FROM kpi_scrap_lots")
        derived_scrap_lots = sql.execute(conn, "INSERT INTO kpi_scrap_lots SELECT * FROM kpi_scrap_lots_source")
        for n, (_name, ddl) in enumerate(indexes, start=1):
            sql.execute(conn, ddl)
            progress("indexes", n, len(indexes))
        if not superuser:
            for table, trigger in audited:
                sql.execute(
                    conn,
                    pgsql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(pgsql.Identifier(table), pgsql.Identifier(trigger)),
                )
        _record_bulk_load(conn, rows.counts, scale, seed)
        conn.commit()
        t2 = time.perf_counter()

    with psycopg.connect(conninfo, autocommit=True) as conn:
        progress("analyze", 0, 1)
        sql.execute(conn, "VACUUM ANALYZE")
        progress("analyze", 1, 1)
        used = most_used_raw_lot(conn)
    t3 = time.perf_counter()
    report = LoadReport(
        database=dbname,
        scale=scale,
        seed=seed,
        rows={
            **{t: rows.counts[t] for t in TABLE_NAMES},
            "lot_shipments": derived_lot_shipments,
            "sales_order_line_fills": derived_fills,
            "kpi_ledger_days": derived_days,
            "lot_flow_totals": derived_totals,
            "kpi_fill_months": derived_fill_months,
            "kpi_scrap_lots": derived_scrap_lots,
        },
        seconds_generate_load=t1 - t0,
        seconds_indexes=t2 - t1,
        seconds_analyze=t3 - t2,
        most_used_raw_lot=used,
        replica_mode=bool(superuser),
    )
    if check:
        t4 = time.perf_counter()
        report.check = run_checks(conninfo, progress=lambda d, n: progress("check", d, n))
        report.seconds_check = time.perf_counter() - t4
    return report
