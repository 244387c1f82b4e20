"""Trace benchmark on a generated database (``lotline generate --scale 1000``).

Prints markdown tables:
1. typical lots, forward + backward ("both", with receipts, on-hand and mass balance): p50 / p95 /
   max over random lots, and the same for the per-lot ORM-style baseline;
2. the most widely used raw lot, full forward trace (lots + shipments + customers): the engine
   vs the per-hop baseline, with the ratio;
   beside it, the PostgreSQL floor: the server's own execution time of the same statements
   (EXPLAIN ANALYZE, TIMING OFF, with the trace's planner settings), and the ratio;
3. the forward closure alone: recursive CTE over the derived edge table vs the same CTE joining
   the spec tables (inventory_movement_lots -> work_order_lot_links -> ...) per hop.

The baseline is what ORM-based ERPs do: one query per lot, level by level (consumed rows ->
execution -> produced rows), then one query per reached lot for its shipments.

    .venv/bin/python bench/bench_trace.py --database-url postgresql://postgres@127.0.0.1:5432/lotline_bench

``--code DIR`` measures another checkout's engine (its ``src/``, e.g. a worktree of the starting
commit) in the same run, in alternating rounds (this, other; other, this), each in its own process,
and prints both side by side with the ratio. The PostgreSQL floor of each engine is the server's
execution time of exactly the statements that engine sends for one trace (recorded while it runs,
then replayed under EXPLAIN (ANALYZE, TIMING OFF) in a fresh snapshot, in order).

    .venv/bin/python bench/bench_trace.py --database-url postgresql://postgres@127.0.0.1:5432/bench_copy \
        --code /work/wt/trace_base
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid

import sqlalchemy as sa
import statements_floor  # bench/ beside this script
from sqlalchemy.orm import Session

from lotline import db
from lotline.db import engine as engine_mod
from lotline.db import sql
from lotline.db.engine import normalize_url
from lotline.models import (
    Customer,
    InventoryMovementLot,
    SalesOrder,
    SalesOrderShipment,
    ShipmentLotLink,
    WorkOrderLotLink,
)
from lotline.trace import service as trace

SPEC_TABLES_CLOSURE = """
WITH RECURSIVE reach(lot_id) AS (
    SELECT s.lot_id FROM unnest(%(start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT p_iml.lot_id
      FROM reach r
      JOIN inventory_movement_lots c_iml ON c_iml.lot_id = r.lot_id
      JOIN work_order_lot_links c ON c.inventory_movement_lot_id = c_iml.id AND c.role = 'consume'
      JOIN work_order_lot_links p ON p.work_order_execution_id = c.work_order_execution_id AND p.role = 'produce'
      JOIN inventory_movement_lots p_iml ON p_iml.id = p.inventory_movement_lot_id
)
SELECT count(*) FROM reach
"""

EDGE_TABLE_CLOSURE = """
WITH RECURSIVE reach(lot_id) AS (
    SELECT s.lot_id FROM unnest(%(start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.child_lot_id FROM reach r JOIN lot_genealogy_edges e ON e.parent_lot_id = r.lot_id
)
SELECT count(*) FROM reach
"""


def snapshot(engine) -> Session:
    s = Session(engine)
    s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    s.execute(sa.text("SET TRANSACTION READ ONLY"))
    return s


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - t0) * 1000


# --- the per-hop baseline -------------------------------------------------------------------------


def orm_walk(session: Session, start: uuid.UUID, direction: str) -> set[uuid.UUID]:
    """Level by level, one ORM query per lot: lot rows with the role -> executions -> other side."""
    mine, theirs = ("consume", "produce") if direction == "forward" else ("produce", "consume")
    seen = {start}
    frontier = [start]
    while frontier:
        nxt = []
        for lot_id in frontier:
            executions = session.scalars(
                sa.select(WorkOrderLotLink.work_order_execution_id)
                .join(
                    InventoryMovementLot,
                    InventoryMovementLot.id == WorkOrderLotLink.inventory_movement_lot_id,
                )
                .where(InventoryMovementLot.lot_id == lot_id, WorkOrderLotLink.role == mine)
            ).all()
            for execution_id in set(executions):
                others = session.scalars(
                    sa.select(InventoryMovementLot.lot_id)
                    .join(
                        WorkOrderLotLink,
                        WorkOrderLotLink.inventory_movement_lot_id == InventoryMovementLot.id,
                    )
                    .where(
                        WorkOrderLotLink.work_order_execution_id == execution_id,
                        WorkOrderLotLink.role == theirs,
                    )
                ).all()
                for other in others:
                    if other not in seen:
                        seen.add(other)
                        nxt.append(other)
        frontier = nxt
    return seen


def orm_shipments(session: Session, lots: set[uuid.UUID]) -> list:
    out = []
    for lot_id in lots:
        out += session.execute(
            sa.select(
                SalesOrderShipment.id, SalesOrder.number, Customer.code, InventoryMovementLot.quantity_delta
            )
            .join(ShipmentLotLink, ShipmentLotLink.sales_order_shipment_id == SalesOrderShipment.id)
            .join(InventoryMovementLot, InventoryMovementLot.id == ShipmentLotLink.inventory_movement_lot_id)
            .join(SalesOrder, SalesOrder.id == SalesOrderShipment.sales_order_id)
            .join(Customer, Customer.id == SalesOrderShipment.customer_id)
            .where(InventoryMovementLot.lot_id == lot_id)
        ).all()
    return out


def orm_both(session: Session, lot_id: uuid.UUID):
    down = orm_walk(session, lot_id, "forward")
    up = orm_walk(session, lot_id, "backward")
    return down, up, orm_shipments(session, down)


# --- reporting -------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} (load avg {load:.1f} at start)"


def engine_figures(url: str, sample: list[uuid.UUID], most: uuid.UUID, repeat: int) -> dict:
    """The engine's figures (whichever lotline is imported): typical lots warm, with and without
    stock; the most-used lot forward, with and without stock, wall and client CPU time, and the
    PostgreSQL floor of the very statements it sent."""
    engine = sa.create_engine(normalize_url(url), pool_pre_ping=True)
    # the engine traces in the read snapshot every entry point opens (its pool, its transaction's
    # start and end: whether the connection keeps its prepared statements is part of the engine)
    engine_mod.reset_engine(engine_mod.create_engine(url))

    def one(lot_id, direction, with_stock):
        with db.read_snapshot() as s:
            c0, t0 = time.process_time(), time.perf_counter()
            result = trace.trace(s, [lot_id], direction, with_stock=with_stock)
            ms, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        return result, ms, cpu

    def floor(lot_id, with_stock) -> float:
        with db.read_snapshot() as s, statements_floor.recording() as sent:
            trace.trace(s, [lot_id], "forward", with_stock=with_stock)
        with snapshot(engine) as s:
            total, _ = statements_floor.server_ms(sql.driver_connection(s), sent)
            s.rollback()
        return total

    out: dict = {"lotline": os.path.dirname(trace.__file__)}
    warm, sizes, stock = [], [], []
    for lot_id in sample:
        result, ms, _ = one(lot_id, "both", False)
        warm.append(ms)
        sizes.append(len(result.lots))
    for lot_id in sample:
        stock.append(one(lot_id, "both", True)[1])
    out.update(warm=warm, sizes=sizes, stock=stock)
    runs, cpus, runs_stock, floors, floors_stock = [], [], [], [], []
    for _ in range(repeat):
        result, ms, cpu = one(most, "forward", False)
        runs.append(ms)
        cpus.append(cpu)
        full, ms, _ = one(most, "forward", True)
        runs_stock.append(ms)
        floors.append(floor(most, False))
        floors_stock.append(floor(most, True))
    out.update(
        runs=runs, cpus=cpus, runs_stock=runs_stock, floors=floors, floors_stock=floors_stock,
        lots=len(result.lots), shipments=len(result.shipments), customers=len(result.customers),
    )  # fmt: skip
    engine.dispose()
    engine_mod.get_engine().dispose()
    return out


def in_subprocess(code: str | None, payload: dict) -> dict:
    """engine_figures() in a fresh process importing ``code``/src (None: this checkout)."""
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = os.path.join(code, "src")
    done = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(payload)], env=env, check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:  # noqa: C901 — a benchmark script: its measured steps and tables in one place
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/lotline_bench")
    ap.add_argument("--samples", type=int, default=200, help="random lots for the typical-lot percentiles")
    ap.add_argument("--baseline-samples", type=int, default=50, help="random lots for the per-lot baseline")
    ap.add_argument("--repeat", type=int, default=5, help="runs of the most-used-lot traces (median kept)")
    ap.add_argument("--seed", type=float, default=0.42)
    ap.add_argument("--code", help="another checkout (its src/ is used) measured in the same run")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of the engines (with --code)")
    ap.add_argument(
        "--json", action="store_true", help="print a JSON summary as the last line (bench/run_all.py)"
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        w = json.loads(args.worker)
        figures = engine_figures(
            w["url"], [uuid.UUID(x) for x in w["sample"]], uuid.UUID(w["most"]), w["repeat"]
        )
        print(json.dumps(figures))
        return

    engine = sa.create_engine(normalize_url(args.database_url), pool_pre_ping=True)
    with engine.connect() as conn:
        counts = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in (
                "inventory_movement_lots",
                "lots",
                "lot_genealogy_edges",
                "shipment_lot_links",
                "customers",
            )
        }
        server = conn.execute(sa.text("SHOW server_version")).scalar()
        conn.execute(sa.text("SELECT setseed(:s)"), {"s": args.seed})
        sample = (
            conn.execute(sa.text("SELECT id FROM lots ORDER BY random() LIMIT :n"), {"n": args.samples})
            .scalars()
            .all()
        )
        most = conn.execute(
            sa.text(
                """
                SELECT l.id, l.lot_code, i.sku, count(DISTINCT e.work_order_execution_id)
                  FROM lot_genealogy_edges e JOIN lots l ON l.id = e.parent_lot_id JOIN items i ON i.id = l.item_id
                 WHERE l.received_at IS NOT NULL
                 GROUP BY l.id, l.lot_code, i.sku ORDER BY 4 DESC, l.id LIMIT 1
                """
            )
        ).one()
        conn.rollback()

    print(f"Machine: {machine()}; PostgreSQL {server}")
    print(
        "Data: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        + f". Most-used raw lot: {most.sku} {most.lot_code} ({most[3]:,} executions)."
    )
    print()

    # 1. a first pass over the typical lots (cache cold for them), in this process with this code
    cold_ms = []
    for lot_id in sample:
        with snapshot(engine) as s:
            _, ms = timed(lambda lot_id=lot_id, s=s: trace.trace(s, [lot_id], "both", with_stock=False))
            s.rollback()
        cold_ms.append(ms)
    # the engines, each in its own process, in alternating rounds
    codes = [("this code", None)] + ([("starting code", args.code)] if args.code else [])
    payload = {"url": args.database_url, "sample": [str(x) for x in sample], "most": str(most.id),
               "repeat": args.repeat}  # fmt: skip
    figures: dict[str, dict] = {}
    for r in range(args.rounds if args.code else 1):
        for name, code in codes if r % 2 == 0 else codes[::-1]:
            got = in_subprocess(code, payload)
            mine = figures.setdefault(name, {k: [] for k, v in got.items() if isinstance(v, list)})
            for k, v in got.items():
                if isinstance(v, list):
                    mine[k] += v
                else:
                    mine[k] = v
    base_ms = []
    for lot_id in sample[: args.baseline_samples]:
        with snapshot(engine) as s:
            _, ms = timed(lambda lot_id=lot_id, s=s: orm_both(s, lot_id))
            s.rollback()
        base_ms.append(ms)
    runs_base = []
    for _ in range(max(1, min(args.repeat, 2))):
        with snapshot(engine) as s:
            (down, ships), ms = timed(
                lambda s=s: (lambda d: (d, orm_shipments(s, d)))(orm_walk(s, most.id, "forward"))
            )
            s.rollback()
        runs_base.append(ms)
    base = statistics.median(runs_base)

    def row(label: str, values: list[float], lots: str = "") -> None:
        print(f"| {label} | {lots} | {pct(values, 0.5):.1f} | {pct(values, 0.95):.1f} | {max(values):.1f} |")

    this = figures["this code"]
    sizes = this["sizes"][: len(sample)]
    print(
        f"| Typical lot, forward + backward ({len(sample)} random lots) | lots reached | p50 ms | p95 ms | max ms |"
    )
    print("|---|---:|---:|---:|---:|")
    row(
        "lotline: lots + edges + shipments, first pass (cold cache)",
        cold_ms,
        f"{statistics.median(sizes):.0f} median, {max(sizes):,} max",
    )
    for name, f in figures.items():
        row(f"{name}: lots + edges + shipments, warm", f["warm"])
        row(f"{name}: + receipts, on-hand and mass balance of every lot, warm", f["stock"])
    row(f"per-lot ORM baseline, first {len(base_ms)} of the same lots, warm", base_ms)
    same = [x for i, x in enumerate(this["warm"]) if i % len(sample) < args.baseline_samples]
    row(f"this code (lots + edges + shipments) on those {len(base_ms)} lots", same)
    print()
    print(
        "| Typical lot ratios | p95 with stock / p95 lots only (goal ≤ 2×) | baseline p50 / lots-only p50 |"
    )
    print("|---|---:|---:|")
    for name, f in figures.items():
        mine = [x for i, x in enumerate(f["warm"]) if i % len(sample) < args.baseline_samples]
        print(
            f"| {name} | {pct(f['stock'], 0.95) / pct(f['warm'], 0.95):.2f}× "
            f"| {pct(base_ms, 0.5) / pct(mine, 0.5):.1f}× |"
        )
    print()

    # 2. most-used raw lot
    print(
        f"| Most-used raw lot {most.sku} {most.lot_code}, full forward trace | lots | shipments | customers "
        "| median ms | client CPU ms | vs baseline (goal ≥ 100×) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, f in figures.items():
        eng = statistics.median(f["runs"])
        print(
            f"| {name}: lots + shipments + customers | {f['lots']:,} | {f['shipments']:,} | {f['customers']:,} "
            f"| {eng:.0f} | {statistics.median(f['cpus']):.0f} | {base / eng:.0f}× faster |"
        )
        full = statistics.median(f["runs_stock"])
        print(
            f"| {name}: + receipts, on-hand and mass balance of every lot | | | | {full:.0f} | | {base / full:.0f}× faster |"
        )
    print(
        f"| per-hop ORM baseline (one query per lot per level, then per lot for shipments) | {len(down):,} "
        f"| {len(ships):,} rows | | {base:.0f} | | 1× |"
    )
    assert len(down) == this["lots"], (len(down), this["lots"])
    print()
    print(
        "| Most-used raw lot: engine vs the PostgreSQL floor (server time of the statements it sends) "
        "| floor ms | engine ms | engine / floor |"
    )
    print("|---|---:|---:|---:|")
    for name, f in figures.items():
        eng, floor = statistics.median(f["runs"]), statistics.median(f["floors"])
        full, floor_full = statistics.median(f["runs_stock"]), statistics.median(f["floors_stock"])
        print(
            f"| {name}: lots + shipments + customers | {floor:.0f} | {eng:.0f} | {eng / floor:.2f}× (goal ≤ 1.5×) |"
        )
        print(
            f"| {name}: + receipts, on-hand and mass balance | {floor_full:.0f} | {full:.0f} | {full / floor_full:.2f}× |"
        )
    if args.code:
        a, b = figures["this code"], figures["starting code"]
        print()
        print("| this code vs starting code, same run | this | starting | starting / this |")
        print("|---|---:|---:|---:|")
        for label, key, p in (
            ("typical lot, lots only, p50 ms", "warm", 0.5),
            ("typical lot, lots only, p95 ms", "warm", 0.95),
            ("typical lot, with stock, p50 ms", "stock", 0.5),
            ("typical lot, with stock, p95 ms", "stock", 0.95),
            ("most-used lot, lots only, median ms", "runs", 0.5),
            ("most-used lot, lots only, client CPU median ms", "cpus", 0.5),
            ("most-used lot, with stock, median ms", "runs_stock", 0.5),
        ):
            x, y = pct(a[key], p), pct(b[key], p)
            print(f"| {label} | {x:.1f} | {y:.1f} | {y / x:.2f}× |")
    print()

    # 3. closure: edge table vs spec tables per hop
    edge_runs, spec_runs = [], []
    with engine.connect() as conn:
        for _ in range(args.repeat):
            n_edge, ms = timed(
                lambda: conn.exec_driver_sql(EDGE_TABLE_CLOSURE, {"start": [most.id]}).scalar()
            )
            edge_runs.append(ms)
            n_spec, ms = timed(
                lambda: conn.exec_driver_sql(SPEC_TABLES_CLOSURE, {"start": [most.id]}).scalar()
            )
            spec_runs.append(ms)
        conn.rollback()
    assert n_edge == n_spec, (n_edge, n_spec)
    e_ms, s_ms = statistics.median(edge_runs), statistics.median(spec_runs)
    print("| Forward closure of the most-used raw lot (recursive CTE, lots only) | lots | median ms |")
    print("|---|---:|---:|")
    print(f"| over the derived lot_genealogy_edges table | {n_edge:,} | {e_ms:.0f} |")
    print(
        f"| joining inventory_movement_lots → work_order_lot_links per hop (spec tables) | {n_spec:,} | {s_ms:.0f} ({s_ms / e_ms:.1f}× slower) |"
    )
    print()
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        rev = "?"
    codes_note = f" --code {args.code} ({figures['starting code']['lotline']})" if args.code else ""
    print(
        f"(bench/bench_trace.py, commit {rev or '?'}, --samples {args.samples} --baseline-samples "
        f"{args.baseline_samples} --repeat {args.repeat}{codes_note}; load avg {os.getloadavg()[0]:.1f} at the end)"
    )

    if args.json:
        eng, floor = statistics.median(this["runs"]), statistics.median(this["floors"])
        stock95, warm95 = pct(this["stock"], 0.95), pct(this["warm"], 0.95)
        print(json.dumps({"bench": "trace", "figures": [
            {"name": "most-used lot, full forward trace", "value": round(eng, 1), "unit": "ms",
             "reference": "PostgreSQL floor (server time of the statements)", "reference_value": round(floor, 1),
             "ratio": round(eng / floor, 3), "goal": "<= 1.5"},
            {"name": "per-hop ORM baseline / most-used lot trace", "value": round(base / eng, 1), "unit": "x faster",
             "reference": "per-hop baseline ms", "reference_value": round(base, 1), "ratio": round(base / eng, 1),
             "goal": ">= 100"},
            {"name": "typical lot p95 with receipts, on-hand, mass balance", "value": round(stock95, 1),
             "unit": "ms", "reference": "lots-only trace p95", "reference_value": round(warm95, 1),
             "ratio": round(stock95 / warm95, 3), "goal": "<= 2"},
        ]}))  # fmt: skip


if __name__ == "__main__":
    main()
