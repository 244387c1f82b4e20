"""Trace cost across data sizes: the most-used raw lot of each database, traced the same ways.

A trace must be fast at every scale, not only on the large data set its plans were tuned on: on
small data the planner sees a trace reach a large share of a table and is tempted by hash joins
over whole tables (or, guessing a recursive closure at 10 rows, nested loops over them). Give one
database per scale (``lotline generate --scale N`` into each); the largest one is the reference
and every figure is printed beside the reference's, with the ratio.

    .venv/bin/python bench/bench_trace_scaling.py \\
        postgresql://postgres@127.0.0.1:5432/lotline_trace_s1 \\
        postgresql://postgres@127.0.0.1:5432/lotline_trace_s10 \\
        postgresql://postgres@127.0.0.1:5432/lotline_trace_s100 \\
        postgresql://postgres@127.0.0.1:5432/lotline_bench

Read-only: every trace runs in a REPEATABLE READ, READ ONLY snapshot that is rolled back.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.db.engine import normalize_url
from lotline.trace import service as trace

MOST_USED = """
SELECT l.id, l.lot_code, i.sku
  FROM lot_genealogy_edges e JOIN lots l ON l.id = e.parent_lot_id JOIN items i ON i.id = l.item_id
 WHERE l.received_at IS NOT NULL
 GROUP BY l.id, l.lot_code, i.sku ORDER BY count(DISTINCT e.work_order_execution_id) DESC, l.id LIMIT 1
"""

# (label, direction, with_stock): the forward trace a recall starts from, the same with the stock
# sections, and both ways (what a recall trace run computes).
SHAPES = [
    ("forward, lots + shipments", "forward", False),
    ("forward, + receipts, on-hand, mass balance", "forward", True),
    ("both ways, lots + shipments", "both", False),
]


def measure(url: str, repeat: int) -> dict:
    engine = sa.create_engine(normalize_url(url))
    with engine.connect() as conn:
        iml = conn.execute(sa.text("SELECT count(*) FROM inventory_movement_lots")).scalar()
        most = conn.execute(sa.text(MOST_USED)).one()
        conn.rollback()
    out = {"db": url.rsplit("/", 1)[-1], "iml": iml, "lot": f"{most.sku} {most.lot_code}", "shapes": {}}
    for label, direction, with_stock in SHAPES:
        times, result = [], None
        for i in range(repeat + 1):
            with Session(engine) as s:
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                s.execute(sa.text("SET TRANSACTION READ ONLY"))
                t0 = time.perf_counter()
                result = trace.trace(s, [most.id], direction, with_stock=with_stock)
                ms = (time.perf_counter() - t0) * 1000
                s.rollback()
            if i:  # the first run warms the cache for this lot
                times.append(ms)
        out["shapes"][label] = (statistics.median(times), max(times), len(result.lots), len(result.shipments))
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("urls", nargs="+", help="one database per scale; the largest is the reference")
    ap.add_argument("--repeat", type=int, default=5, help="measured runs per shape (median kept)")
    ap.add_argument("--json", action="store_true", help="print a JSON summary as the last line (bench/run_all.py)")
    args = ap.parse_args()

    results = [measure(u, args.repeat) for u in args.urls]
    ref = max(results, key=lambda r: r["iml"])
    load = os.getloadavg()[0]
    print(f"Reference: {ref['db']} ({ref['iml']:,} movement-lot rows). Load average {load:.1f} at the end.")
    print()
    print("| database | movement-lot rows | most-used raw lot | trace | lots | shipments | median ms | max ms | vs reference |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        for label, (median, worst, lots, ships) in r["shapes"].items():
            ratio = median / ref["shapes"][label][0]
            print(
                f"| {r['db']} | {r['iml']:,} | {r['lot']} | {label} | {lots:,} | {ships:,} | {median:.0f} "
                f"| {worst:.0f} | {ratio:.2f}× |"
            )
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
        commit = rev.stdout.strip() or "?"
    except OSError:
        commit = "?"
    print(f"\n(bench/bench_trace_scaling.py, commit {commit}, --repeat {args.repeat})")
    if args.json:
        print(json.dumps({"bench": "trace_scaling", "figures": [
            {"name": f"most-used lot {label}, {r['db']} ({r['iml']:,} movement-lot rows)", "value": round(median, 1),
             "unit": "ms", "reference": f"{ref['db']} (reference)", "reference_value": round(ref["shapes"][label][0], 1),
             "ratio": round(median / ref["shapes"][label][0], 3), "goal": None}
            for r in results if r is not ref for label, (median, _worst, _lots, _ships) in r["shapes"].items()
        ]}))


if __name__ == "__main__":
    main()
