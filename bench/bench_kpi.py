"""Benchmark: a 12-month KPI run with every dimension, step by step.

Usage:
    .venv/bin/python bench/bench_kpi.py [--url postgresql://postgres@127.0.0.1:5432/lotline_bench]
        [--start 2025-01-01 --end 2026-01-01] [--repeat 3] [--commit]
    .venv/bin/python bench/bench_kpi.py --synthetic 10000000 --url postgresql://.../lotline_kpi_synth

Without --synthetic it measures the database at --url as it is (the shared generated data set).
With --synthetic N it first (re)creates that database, migrates it and generates about N ledger
lines server-side (INSERT ... SELECT generate_series; deterministic, see SYNTHETIC below), then
measures. Each repetition creates and computes a run in one transaction and rolls it back unless
--commit, so the database is left as it was. Prints a table of per-step wall-clock times (the
steps are the statements of lotline.kpis.runs.COMPUTE_STEPS) and the row counts stored. Then the
DuckDB peer (``pip install -e '.[bench]'``; --no-peer to skip): the tables exported and loaded once
(timed apart), turns, days of inventory and item line fill rate computed from them, checked against
the stored run to 1e-6 (relative), and timed beside our run: each repetition runs ours, then the
peer's computation, so both see the same machine load; the ratio of the medians and the median of
the per-repetition ratios are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lotline.db import engine as engine_mod
from lotline.db import local_settings, migrations, sql
from lotline.kpis import runs
from lotline.kpis import service as kpis
from lotline.kpis.schemas import RunIn

console = Console()

# Shape of the synthetic ledger (about lines_total ledger lines):
#   2000 items (every 10th untracked), 20 locations, each item stocked at 5 locations = 10,000
#   item x location series; events spread evenly over 15 months (3 months of history before a
#   12-month window) with jitter; every 10th event of a series is a receipt of 100 into a new lot,
#   the others take 10 out (alternating shipment / production consumption, every 50th a scrap),
#   so lot stock never goes negative but touches low levels; untracked series receive only 80 and
#   do go negative. Two lines per movement; every lot-tracked line has its lot row. Lots expire
#   60 days after receipt; 2% of lots are quarantined or blocked. 150,000 sales orders (two lines)
#   are tied to shipment movements, ordered 1-1.5x what was shipped, due within a few days of it.
SYNTHETIC = [
    "SELECT setseed(0.42)",
    """INSERT INTO vendors (id, code, name) VALUES ('00000000-0000-0000-0000-000000000001', 'V1', 'Vendor')""",
    """INSERT INTO items (id, sku, name, uom, lot_tracked, standard_cost)
       SELECT ('00000000-0000-0000-0001-' || lpad(to_hex(g), 12, '0'))::uuid, 'SKU' || g, 'Item ' || g,
              CASE WHEN g % 3 = 0 THEN 'ea' ELSE 'kg' END, g % 10 <> 0, round((0.5 + random() * 50)::numeric, 2)
         FROM generate_series(1, 2000) g""",
    """INSERT INTO locations (id, code, name, kind)
       SELECT ('00000000-0000-0000-0002-' || lpad(to_hex(g), 12, '0'))::uuid, 'LOC' || g, 'Location ' || g, 'storage'
         FROM generate_series(1, 20) g""",
    """INSERT INTO customers (id, code, name)
       SELECT ('00000000-0000-0000-0003-' || lpad(to_hex(g), 12, '0'))::uuid, 'C' || g, 'Customer ' || g
         FROM generate_series(1, 200) g""",
    # series s = 0..9999: item s/5 + 1, location (s*7 + s/5) % 20 + 1; events e = 0..n-1
    """CREATE UNLOGGED TABLE syn_events AS
       SELECT s, e,
              ('00000000-0000-0000-0001-' || lpad(to_hex(s / 5 + 1), 12, '0'))::uuid AS item_id,
              ('00000000-0000-0000-0002-' || lpad(to_hex((s * 7 + s / 5) % 20 + 1), 12, '0'))::uuid AS location_id,
              (s / 5 + 1) % 10 <> 0 AS tracked,
              timestamptz '2024-10-01' + (e + random() * 0.9) * (interval '456 days' / :per_series) AS t
         FROM generate_series(0, 9999) s, generate_series(0, :per_series - 1) e""",
    """CREATE UNLOGGED TABLE syn_lines AS
       SELECT ev.*, row_number() OVER (ORDER BY e, s) AS n,
              CASE WHEN e % 10 = 0 THEN CASE WHEN tracked THEN 100 ELSE 80 END ELSE -10 END AS q,
              CASE WHEN e % 10 = 0 THEN 'receipt' WHEN e % 50 = 7 THEN 'scrap'
                   WHEN e % 2 = 0 THEN 'shipment' ELSE 'production_consume' END AS kind,
              gen_random_uuid() AS line_id,
              CASE WHEN tracked THEN ('00000000-0000-0001-' || lpad(to_hex(s), 4, '0') || '-' || lpad(to_hex(e / 10), 12, '0'))::uuid END AS lot_id
         FROM syn_events ev""",
    # two lines per movement: pair event (s, e) with (s + 5000, e); movement type of the first
    """CREATE UNLOGGED TABLE syn_moves AS
       SELECT (n + 1) / 2 AS m, min(kind) FILTER (WHERE s < 5000) AS kind, min(t) AS t
         FROM (SELECT CASE WHEN s < 5000 THEN 2 * (e * 5000 + s) + 1 ELSE 2 * (e * 5000 + s - 5000) + 2 END AS n, kind, t, s
                 FROM syn_lines) x
        GROUP BY (n + 1) / 2""",
    """INSERT INTO lots (id, item_id, lot_code, status, received_at, expires_at, updated_at)
       SELECT lot_id, item_id, 'L' || s || '-' || e / 10,
              CASE WHEN random() < 0.01 THEN 'quarantine' WHEN random() < 0.01 THEN 'blocked' ELSE 'active' END,
              t, t + interval '60 days', now()
         FROM syn_lines WHERE tracked AND e % 10 = 0""",
    """INSERT INTO inventory_movements (id, movement_type, occurred_at, vendor_id, customer_id, created_at)
       SELECT ('00000000-0001-0000-0000-' || lpad(to_hex(m), 12, '0'))::uuid,
              CASE WHEN kind = 'receipt' THEN 'receipt' WHEN kind = 'scrap' THEN 'scrap'
                   WHEN kind = 'shipment' THEN 'shipment' ELSE 'production_consume' END, t,
              CASE WHEN kind = 'receipt' THEN '00000000-0000-0000-0000-000000000001'::uuid END,
              CASE WHEN kind = 'shipment' THEN ('00000000-0000-0000-0003-' || lpad(to_hex(m % 200 + 1), 12, '0'))::uuid END,
              t + interval '1 hour'
         FROM syn_moves""",
    """INSERT INTO inventory_movement_lines (id, movement_id, line_no, item_id, location_id, uom, quantity_delta, created_at,
                                          occurred_at, movement_type)
       SELECT l.line_id, m.id, CASE WHEN l.s < 5000 THEN 1 ELSE 2 END, l.item_id, l.location_id, 'kg', l.q, m.created_at,
              m.occurred_at, m.movement_type
         FROM syn_lines l
         JOIN inventory_movements m
           ON m.id = ('00000000-0001-0000-0000-' || lpad(to_hex((CASE WHEN l.s < 5000 THEN 2 * (l.e * 5000 + l.s) + 1
                                                                       ELSE 2 * (l.e * 5000 + l.s - 5000) + 2 END + 1) / 2), 12, '0'))::uuid""",
    """INSERT INTO inventory_movement_lots (id, inventory_movement_line_id, lot_id, uom, quantity_delta, created_at)
       SELECT gen_random_uuid(), line_id, lot_id, 'kg', q, t + interval '1 hour' FROM syn_lines WHERE tracked""",
    """INSERT INTO sales_orders (id, number, customer_id, status, ordered_at, created_at)
       SELECT ('00000000-0002-0000-0000-' || lpad(to_hex(m), 12, '0'))::uuid, 'SO' || m,
              ('00000000-0000-0000-0003-' || lpad(to_hex(m % 200 + 1), 12, '0'))::uuid, 'open', t - interval '5 days', t - interval '5 days'
         FROM syn_moves WHERE kind = 'shipment' AND m % 10 = 0""",
    """INSERT INTO sales_order_lines (id, sales_order_id, line_no, item_id, uom, quantity_ordered, due_date, created_at)
       SELECT gen_random_uuid(), ('00000000-0002-0000-0000-' || lpad(to_hex(mv.m), 12, '0'))::uuid, l.line_no, l.item_id, 'kg',
              -l.quantity_delta * CASE WHEN random() < 0.2 THEN 1.5 ELSE 1 END,
              (mv.t + (random() * 6 - 2) * interval '1 day')::date, mv.t - interval '5 days'
         FROM syn_moves mv
         JOIN inventory_movement_lines l ON l.movement_id = ('00000000-0001-0000-0000-' || lpad(to_hex(mv.m), 12, '0'))::uuid
        WHERE mv.kind = 'shipment' AND mv.m % 10 = 0""",
    """INSERT INTO sales_order_shipments (id, sales_order_id, customer_id, shipped_at, inventory_movement_id, created_at)
       SELECT ('00000000-0003-0000-0000-' || lpad(to_hex(m), 12, '0'))::uuid, ('00000000-0002-0000-0000-' || lpad(to_hex(m), 12, '0'))::uuid,
              ('00000000-0000-0000-0003-' || lpad(to_hex(m % 200 + 1), 12, '0'))::uuid, t,
              ('00000000-0001-0000-0000-' || lpad(to_hex(m), 12, '0'))::uuid, t + interval '1 hour'
         FROM syn_moves WHERE kind = 'shipment' AND m % 10 = 0""",
    """INSERT INTO sales_order_shipment_lines (id, sales_order_shipment_id, sales_order_line_id, inventory_movement_line_id, quantity, created_at)
       SELECT gen_random_uuid(), sh.id, sol.id, l.id, -l.quantity_delta, sh.created_at
         FROM sales_order_shipments sh
         JOIN inventory_movement_lines l ON l.movement_id = sh.inventory_movement_id
         JOIN sales_order_lines sol ON sol.sales_order_id = sh.sales_order_id AND sol.line_no = l.line_no""",
    "INSERT INTO sales_order_line_fills SELECT * FROM sales_order_line_fills_source",
    "DROP TABLE syn_events, syn_lines, syn_moves",
    "VACUUM ANALYZE",
]


def generate(url: str, lines_total: int) -> None:
    target = make_url(engine_mod.normalize_url(url))
    admin = sa.create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()
    eng = engine_mod.create_engine(url, isolation_level="AUTOCOMMIT")
    migrations.upgrade(eng)
    per_series = max(lines_total // 10_000, 10)
    with eng.connect() as conn:
        conn.exec_driver_sql("SET work_mem = '512MB'")
        conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for stmt in SYNTHETIC:
            t0 = time.perf_counter()
            conn.execute(sa.text(stmt), {"per_series": per_series})
            console.print(f"[dim]{time.perf_counter() - t0:7.1f} s  {' '.join(stmt.split())[:90]}[/]")
    eng.dispose()


def counts(session: Session) -> dict[str, int]:
    out = {}
    for table in (
        "inventory_movements",
        "inventory_movement_lines",
        "inventory_movement_lots",
        "lots",
        "sales_order_lines",
        "sales_order_shipment_lines",
    ):
        out[table] = session.execute(
            sa.text("SELECT reltuples::bigint FROM pg_class WHERE relname = :t"), {"t": table}
        ).scalar_one()
    return out


def other_code_run(code: str, url: str, start: datetime, end: datetime) -> float:
    """Seconds of one KPI run (create + compute, rolled back) with the checkout at ``code``."""
    env = {**os.environ, "PYTHONPATH": os.path.join(code, "src")}
    out = subprocess.run(
        [sys.executable, os.path.join(code, "bench", "bench_kpi.py"), "--url", url, "--start", f"{start:%Y-%m-%d}",
         "--end", f"{end:%Y-%m-%d}", "--repeat", "1", "--no-peer", "--json"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["figures"][0]["value"])


def measure(  # noqa: C901 — one linear benchmark script: ours, the peer, the other code, then the tables
    url: str, start: datetime, end: datetime, repeat: int, commit: bool, peer: bool, code: str | None = None
) -> dict:
    """Print the tables; return the summary (--json)."""
    eng = engine_mod.create_engine(url)
    with Session(bind=eng) as s:
        sizes = counts(s)
    table = Table(title="Ledger size (pg_class.reltuples)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for k, v in sizes.items():
        table.add_row(k, f"{v:,}")
    console.print(table)
    console.print(f"total rows ≈ {sum(sizes.values()):,}")

    timings: list[dict[str, float]] = []
    stored, figures, params = {}, {}, {}
    # The peer's tables are loaded first; then each repetition runs ours and then the peer's
    # computation back to back, so that the machine's load (2 shared cores) hits both alike.
    con, load_s = peer_load(url) if peer else (None, 0.0)
    results: list[tuple[dict, float]] = []
    other: list[float] = []
    for _ in range(repeat):
        step_t: dict[str, float] = {}
        last = [time.perf_counter(), None]

        def progress(label: str, done: int, total: int, step_t=step_t, last=last) -> None:
            now = time.perf_counter()
            if last[1] is not None:
                step_t[last[1]] = now - last[0]
            last[0], last[1] = now, label

        with Session(bind=eng) as s:
            t0 = time.perf_counter()
            run = kpis.run_kpis(s, RunIn(window_start=start, window_end=end), progress=progress)
            elapsed = time.perf_counter() - t0
            step_t["total (create + compute)"] = elapsed
            stored = {
                "kpi_snapshots": s.execute(
                    sa.text("SELECT count(*) FROM kpi_snapshots WHERE kpi_run_id = :r"), {"r": run.id}
                ).scalar_one(),
                "kpi_rollup_inputs": s.execute(
                    sa.text("SELECT count(*) FROM kpi_rollup_inputs WHERE kpi_run_id = :r"), {"r": run.id}
                ).scalar_one(),
                "series (item x location)": s.execute(
                    sa.text(
                        "SELECT count(*) FROM kpi_snapshots WHERE kpi_run_id = :r AND kpi_name = 'avg_on_hand_qty' "
                        "AND dimensions ? 'item_id' AND dimensions ? 'location_id'"
                    ),
                    {"r": run.id},
                ).scalar_one(),
                "order lines due": s.execute(
                    sa.text(
                        "SELECT CAST(denominator_qty AS bigint) FROM kpi_rollup_inputs WHERE kpi_run_id = :r "
                        "AND metric_name = 'line_fill_rate' AND dimensions = '{}'"
                    ),
                    {"r": run.id},
                ).scalar_one(),
            }
            figures = stored_figures(s, run.id) if peer else {}
            params = kpis.compute_params(run)
            if commit:
                s.commit()
            else:
                s.rollback()
        timings.append(step_t)
        if con is not None:
            results.append(peer_compute(con, params))
        if code is not None:
            other.append(other_code_run(code, url, start, end))

    table = Table(title=f"KPI run {start:%Y-%m-%d} .. {end:%Y-%m-%d}, all dimensions ({repeat} runs)")
    table.add_column("step")
    table.add_column("median s", justify="right")
    table.add_column("min s", justify="right")
    table.add_column("max s", justify="right")
    for key in timings[0]:
        vals = [t[key] for t in timings if key in t]
        table.add_row(key, f"{statistics.median(vals):.2f}", f"{min(vals):.2f}", f"{max(vals):.2f}")
    console.print(table)
    table = Table(title="Stored per run")
    table.add_column("what")
    table.add_column("rows", justify="right")
    for k, v in stored.items():
        table.add_row(k, f"{v:,}")
    console.print(table)
    eng.dispose()
    extra: list[dict] = []
    if code is not None:
        ours = statistics.median(t["total (create + compute)"] for t in timings)
        base = statistics.median(other)
        paired = statistics.median(t["total (create + compute)"] / o for t, o in zip(timings, other, strict=True))
        table = Table(title=f"this code vs {code}, same run (medians of {repeat})")
        for col in ("code", "seconds", "ratio"):
            table.add_column(col, justify="left" if col == "code" else "right")
        table.add_row("this code", f"{ours:.2f}", f"{ours / base:.2f}x (per repetition: median {paired:.2f}x)")
        table.add_row(code, f"{base:.2f}", "1.00x")
        console.print(table)
        extra.append({
            "name": "12-month KPI run vs the other code", "value": round(ours, 3), "unit": "s",
            "reference": f"code at {code}", "reference_value": round(base, 3), "ratio": round(ours / base, 3),
            "goal": "< 1.0", "paired_ratio": round(paired, 3),
        })
    if peer:
        ours = statistics.median(t["total (create + compute)"] for t in timings)
        peer_s = statistics.median(sec for _, sec in results)
        n, worst, only_one = agreement(results[0][0], figures)
        table = Table(title="lotline vs a DuckDB peer on the same tables, same run (medians)")
        for col in ("what", "seconds", "ratio to the peer"):
            table.add_column(col, justify="right" if col != "what" else "left")
        paired = statistics.median(t["total (create + compute)"] / r[1] for t, r in zip(timings, results, strict=True))
        table.add_row("lotline: KPI run, every KPI and level, stored", f"{ours:.2f}",
                      f"{ours / peer_s:.2f}x (per repetition: median {paired:.2f}x)")
        table.add_row("DuckDB: turns, days of inventory, ILFR (tables loaded)", f"{peer_s:.2f}", "1.00x")
        table.add_row("DuckDB: export + load of the tables (once)", f"{load_s:.2f}", "")
        console.print(table)
        verdict = "[green]agree[/]" if worst <= 1e-6 and not only_one else "[red]DISAGREE[/]"
        console.print(
            f"peer vs stored run: {n:,} figures (turns_qty, days_of_inventory_qty per item x location, "
            f"item_line_fill_rate per item), worst relative difference {worst:.2e} -> {verdict}"
            + (f"; only on one side: {only_one}" if only_one else "")
        )
        return {"bench": "kpi", "figures": [{
            "name": "12-month KPI run, every KPI and level, stored", "value": round(ours, 3), "unit": "s",
            "reference": "DuckDB peer (turns, DOI, ILFR; tables loaded)", "reference_value": round(peer_s, 3),
            "ratio": round(ours / peer_s, 3), "goal": "< 1.0", "paired_ratio": round(paired, 3),
        }, {
            "name": "peer vs stored run, worst relative difference", "value": worst, "unit": "relative",
            "reference": f"{n} figures", "reference_value": None, "ratio": None,
            "goal": "<= 1e-6" + ("" if worst <= 1e-6 and not only_one else " (DISAGREE)"),
        }, *extra]}
    ours = statistics.median(t["total (create + compute)"] for t in timings)
    return {"bench": "kpi", "figures": [{
        "name": "12-month KPI run, every KPI and level, stored", "value": round(ours, 3), "unit": "s",
        "reference": None, "reference_value": None, "ratio": None, "goal": None,
    }, *extra]}


# --- the DuckDB peer -------------------------------------------------------------------------------
# What an analyst would do: export the tables once (COPY ... TO STDOUT, CSV; times as epoch seconds
# so no time-zone parsing is involved), load them into an in-process DuckDB, and compute turns,
# days of inventory and item line fill rate per item x location / item with plain SQL in doubles.
# The load is timed apart from the computation; the figures are checked against the stored run.
PEER_TABLES = {
    "lines": (
        "SELECT item_id, location_id, quantity_delta, extract(epoch FROM occurred_at), movement_type, "
        "extract(epoch FROM created_at) FROM inventory_movement_lines",
        {"item_id": "VARCHAR", "location_id": "VARCHAR", "q": "DOUBLE", "t": "DOUBLE", "movement_type": "VARCHAR",
         "recorded": "DOUBLE"},
    ),
    "order_lines": (
        "SELECT sol.id, sol.item_id, sol.quantity_ordered, sol.due_date, extract(epoch FROM sol.created_at), "
        "so.status FROM sales_order_lines sol JOIN sales_orders so ON so.id = sol.sales_order_id",
        {"id": "VARCHAR", "item_id": "VARCHAR", "ordered": "DOUBLE", "due_date": "DATE", "recorded": "DOUBLE",
         "status": "VARCHAR"},
    ),
    "shipped": (
        "SELECT sl.sales_order_line_id, sl.quantity, extract(epoch FROM sh.shipped_at), extract(epoch FROM sh.created_at) "
        "FROM sales_order_shipment_lines sl JOIN sales_order_shipments sh ON sh.id = sl.sales_order_shipment_id",
        {"line_id": "VARCHAR", "q": "DOUBLE", "shipped": "DOUBLE", "recorded": "DOUBLE"},
    ),
}

PEER_INVENTORY = """
WITH s AS (
    SELECT item_id, location_id,
           coalesce(sum(q) FILTER (WHERE t < $ws), 0) AS opening,
           coalesce(sum(q * ($we - t)) FILTER (WHERE t >= $ws), 0) AS qsec_in,
           coalesce(-sum(q) FILTER (WHERE t >= $ws AND movement_type IN ('shipment', 'production_consume')), 0) AS outflow
      FROM lines
     WHERE recorded <= $as_of AND t < $we
     GROUP BY ALL
)
SELECT item_id, location_id,
       round((opening * ($we - $ws) + qsec_in) / ($we - $ws), 6) AS avg_qty,
       round((opening * ($we - $ws) + qsec_in) / 86400, 6) AS qty_days,
       round(outflow, 6) AS outflow
  FROM s
"""

PEER_ILFR = """
WITH due AS (
    SELECT id, item_id, ordered, due_date FROM order_lines
     WHERE status <> 'canceled' AND due_date >= $first_due AND due_date < $end_due AND recorded <= $as_of
), filled AS (
    SELECT d.id, d.item_id, d.ordered,
           least(coalesce(sum(sh.q) FILTER (WHERE sh.recorded <= $as_of
                                              AND sh.shipped < epoch(CAST(d.due_date + 1 AS TIMESTAMP))), 0),
                 d.ordered) AS filled
      FROM due d LEFT JOIN shipped sh ON sh.line_id = d.id
     GROUP BY d.id, d.item_id, d.ordered
)
SELECT item_id, sum(filled) / sum(ordered) AS ilfr FROM filled GROUP BY item_id
"""


def peer_load(url: str):
    """(DuckDB connection with the tables loaded, seconds)."""
    import tempfile

    import duckdb
    import psycopg

    t0 = time.perf_counter()
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as tmp, psycopg.connect(url.replace("+psycopg", "")) as pg:
        for name, (select, columns) in PEER_TABLES.items():
            path = f"{tmp}/{name}.csv"
            with open(path, "wb") as f, pg.cursor() as cur, cur.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)") as copy:
                for chunk in copy:
                    f.write(chunk)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv(?, header = false, columns = {columns!r})", [path])
    return con, time.perf_counter() - t0


def peer_compute(con, run_params: dict) -> tuple[dict, float]:
    """The peer's figures {(kpi, item, location): value} and the seconds the computation took."""
    ws, we, as_of = (run_params[k].timestamp() for k in ("ws", "we", "as_of"))
    t0 = time.perf_counter()
    inv = con.execute(PEER_INVENTORY, {"ws": ws, "we": we, "as_of": as_of}).fetchall()
    ilfr = con.execute(
        PEER_ILFR, {"first_due": run_params["first_due"], "end_due": run_params["end_due"], "as_of": as_of}
    ).fetchall()
    seconds = time.perf_counter() - t0
    out = {}
    for item, location, avg_qty, qty_days, outflow in inv:
        if avg_qty:
            out["turns_qty", item, location] = round(outflow / avg_qty, 6)
        if outflow:
            out["days_of_inventory_qty", item, location] = round(qty_days / outflow, 6)
    for item, value in ilfr:
        out["item_line_fill_rate", item, None] = value
    return out, seconds


def stored_figures(session: Session, run_id) -> dict:
    rows = sql.rows(
        session,
        "SELECT kpi_name, dimensions ->> 'item_id', dimensions ->> 'location_id', value FROM kpi_snapshots "
        "WHERE kpi_run_id = %(r)s::uuid AND value IS NOT NULL AND ((kpi_name IN ('turns_qty', 'days_of_inventory_qty') "
        "AND dimensions ?& array['item_id', 'location_id']) OR (kpi_name = 'item_line_fill_rate' "
        "AND dimensions ? 'item_id' AND NOT dimensions ? 'customer_id'))",
        {"r": run_id},
        kind="tuple",
    )
    return {(k, i, loc): float(v) for k, i, loc, v in rows}


def agreement(peer: dict, stored: dict) -> tuple[int, float, list]:
    """(figures compared, worst relative difference, keys that only one side has)."""
    worst = 0.0
    for key in peer.keys() & stored.keys():
        worst = max(worst, abs(peer[key] - stored[key]) / max(1.0, abs(stored[key])))
    return len(peer.keys() & stored.keys()), worst, sorted(map(str, peer.keys() ^ stored.keys()))[:5]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/lotline_bench")
    p.add_argument("--start", default="2025-01-01")
    p.add_argument("--end", default="2026-01-01")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--commit", action="store_true", help="keep the runs (default: roll back)")
    p.add_argument(
        "--synthetic", type=int, metavar="LINES", help="first generate ~LINES ledger lines into --url"
    )
    p.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each step (one run)")
    p.add_argument("--no-peer", action="store_true", help="skip the DuckDB peer (needs the bench extra)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    p.add_argument("--code", metavar="DIR", help="also time another checkout's code (its bench_kpi.py) in each repetition")
    a = p.parse_args()
    if a.synthetic:
        generate(a.url, a.synthetic)
    start = datetime.fromisoformat(a.start).replace(tzinfo=UTC)
    end = datetime.fromisoformat(a.end).replace(tzinfo=UTC)
    if a.explain:
        explain(a.url, start, end)
        return
    summary = measure(a.url, start, end, a.repeat, a.commit, peer=not a.no_peer, code=a.code)
    if a.json:
        print(json.dumps(summary))


def explain(url: str, start: datetime, end: datetime) -> None:
    """EXPLAIN ANALYZE of each compute statement, for tuning."""
    eng = engine_mod.create_engine(url)
    with Session(bind=eng) as s:
        run = kpis.create_run(s, RunIn(window_start=start, window_end=end))
        params = kpis.compute_params(run)
        for _name, table, _label in kpis.COMPUTE_STEPS:
            if table:
                sql.execute(s, f"DROP TABLE IF EXISTS pg_temp.{table}")
        with local_settings(s, **kpis.COMPUTE_SETTINGS):  # as compute_run does
            for name, table, _label in kpis.COMPUTE_STEPS:
                if name == "walk" and not sql.scalar(s, sql.load_sql("lotline.kpis", "walk_needed"), {}):
                    sql.execute(s, sql.load_sql("lotline.kpis", "walk_empty"), {})
                    console.rule("walk: skipped (no series may go negative)")
                    continue
                plan = [r[0] for r in sql.rows(s, "EXPLAIN (ANALYZE, BUFFERS) " + runs.statement(name, derived=runs.whole_days(run), months=runs.whole_months(run)), params, kind="tuple")]
                console.rule(name)
                console.print("\n".join(plan), highlight=False)
                if table in runs.ANALYZED:
                    sql.execute(s, f"ANALYZE {table}")
        s.rollback()
    eng.dispose()


if __name__ == "__main__":
    main()
