"""Recall benchmark: a persisted trace run and the whole mock recall drill on generated data.

    .venv/bin/python bench/bench_recall.py [--url postgresql://postgres@127.0.0.1:5432/lotline_bench]
                                           [--repeat 5] [--lot LOT_ID] [--keep] [--rollback]
                                           [--code OTHER_CHECKOUT] [--rounds 2]

Picks the most widely used raw lot (a lot no execution produced, consumed into the most distinct
lots), then measures, each ``--repeat`` times, on a warm database:

1. ``recall trace``: one transaction that locks the case, traces forward and backward as of now,
   supersedes the previous run and inserts the run, its impacted lots and impacted shipments
   (spec invariants 5 and 7), committed — the time a user waits for ``lotline recall trace``.
   Beside it, its PostgreSQL floor: the server's execution time of exactly the statements the run
   sent (recorded, then replayed under EXPLAIN ANALYZE in a transaction that is rolled back);
2. ``recall mock``: the drill end to end (case + target + initiate, trace run, plan actions,
   FSMA 204 CSV + XLSX, report HTML + JSON, cancel), per step and in total (the wall time: the
   export runs beside the report on a second connection, except with --rollback, where every
   session shares the one outer transaction and the steps run one after the other); and the most-used
   lot's forward trace (lots + shipments) in the same process, the drill's yardstick (goal: the
   drill ≤ 4× that trace, at every scale).

``--code DIR`` measures another checkout (its ``src/``, e.g. a worktree of the starting commit) in
the same run: each code in its own process, in alternating rounds. The cases it creates are deleted
afterwards unless ``--keep``; no stock moves. With ``--rollback`` nothing is ever committed (for a
shared database): everything runs in one outer transaction rolled back at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

import sqlalchemy as sa
import statements_floor  # bench/ beside this script
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/lotline_bench"

PICK_LOT = """
SELECT e.parent_lot_id, l.lot_code, i.sku, count(DISTINCT e.child_lot_id) AS children
  FROM lot_genealogy_edges e
  JOIN lots l ON l.id = e.parent_lot_id
  JOIN items i ON i.id = l.item_id
 WHERE NOT EXISTS (SELECT 1 FROM lot_genealogy_edges p WHERE p.child_lot_id = e.parent_lot_id)
 GROUP BY e.parent_lot_id, l.lot_code, i.sku
 ORDER BY children DESC, e.parent_lot_id
 LIMIT 1
"""


class _Undo(Exception):
    """Raised to roll a measured transaction back."""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def recall_figures(url: str, lot_id: uuid.UUID, repeat: int, rollback: bool) -> dict:  # noqa: C901 — one measured sequence
    """Trace runs, their floors, drills and the yardstick trace, with whichever lotline is imported."""
    os.environ["LOTLINE_DATABASE_URL"] = url  # read by lotline.db.get_engine()
    from lotline import db  # noqa: PLC0415 — the code measured is chosen by PYTHONPATH at run time
    from lotline.recalls import (
        service,  # noqa: PLC0415
        strategy,  # noqa: PLC0415
    )
    from lotline.recalls.flows import drill  # noqa: PLC0415
    from lotline.recalls.schemas import CaseIn, TargetIn  # noqa: PLC0415
    from lotline.trace import service as trace  # noqa: PLC0415

    engine = db.get_engine()
    outer = conn = None
    if rollback:
        conn = engine.connect()
        outer = conn.begin()
        factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        db.configure_sessions(factory, snapshots=False)
    out: dict = {"lotline": os.path.dirname(service.__file__), "runs": [], "floors": [], "drills": [], "steps": {},
                 "traces": []}  # fmt: skip
    created: list[uuid.UUID] = []
    try:
        with db.transaction() as s:
            case = service.create_case(s, CaseIn(summary="bench: persisted trace run", severity="low"))
            service.add_target(s, case.id, TargetIn(lot=str(lot_id)))
            strategy.set_strategy(s, case, drill.drill_strategy([str(lot_id)]))
            service.activate(s, case.id, signed=False)
            case_id = case.id
        created.append(case_id)
        for _ in range(repeat):
            t = time.perf_counter()
            with db.transaction() as s:
                run_id = service.compute_run(s, case_id).id
            out["runs"].append(time.perf_counter() - t)
            with db.read_snapshot() as s:
                detail = next(
                    r for r in service.list_runs(s, service.find_case(s, case_id)) if r["id"] == run_id
                )
            # the floor: the same use case's statements, recorded in a transaction rolled back, then
            # replayed under EXPLAIN ANALYZE in another one, rolled back too
            with statements_floor.recording() as sent:
                try:
                    with db.transaction() as s:
                        service.compute_run(s, case_id)
                        raise _Undo
                except _Undo:
                    pass
            replay = conn if conn is not None else engine.connect()
            tx = replay.begin_nested() if conn is not None else replay.begin()
            total, _ = statements_floor.server_ms(replay.connection.driver_connection, sent)
            tx.rollback()
            if conn is None:
                replay.close()
            out["floors"].append(total / 1000)
        out.update(lots=detail["lots"], shipments=detail["shipments"], customers=detail["customers"])
        for _ in range(repeat):
            with db.read_snapshot() as s:
                t = time.perf_counter()
                trace.trace(s, [lot_id], "forward", with_stock=False)
                out["traces"].append(time.perf_counter() - t)
            result = drill.run_drill([str(lot_id)])
            created.append(uuid.UUID(result.case_id))
            out["drills"].append(result.total_seconds)
            for step in result.steps:
                out["steps"].setdefault(step.name, []).append(step.seconds)
                out.setdefault("details", {})[step.name] = step.detail
    finally:
        if outer is not None:
            outer.rollback()
        elif created:
            with db.transaction() as s:
                s.execute(sa.text("DELETE FROM recall_cases WHERE id = ANY(:ids)"), {"ids": created})
    return out


def in_subprocess(code: str | None, args: list[str]) -> dict:
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = os.path.join(code, "src")
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"worker failed ({code or 'this code'}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measured(url: str, lot_id: uuid.UUID, repeat: int, rollback: bool, codes, rounds: int) -> dict[str, dict]:
    """recall_figures() of every code, each in its own process, in alternating rounds, merged."""
    merged: dict[str, dict] = {}
    for r in range(rounds):
        for name, code in codes if r % 2 == 0 else codes[::-1]:
            args = ["--worker", url, str(lot_id), str(repeat)] + (["--rollback"] if rollback else [])
            got = in_subprocess(code, args)
            mine = merged.setdefault(name, {"steps": {}})
            for k, v in got.items():
                if k == "steps":
                    for step, values in v.items():
                        mine["steps"].setdefault(step, []).extend(values)
                elif isinstance(v, list):
                    mine.setdefault(k, []).extend(v)
                else:
                    mine[k] = v
    return merged


def pick_lot(url: str, lot: str | None) -> tuple:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with Session(engine) as s:
        counts = s.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM inventory_movement_lots), (SELECT count(*) FROM lots),"
                " (SELECT count(*) FROM lot_genealogy_edges), (SELECT count(*) FROM sales_order_shipments)"
            )
        ).one()
        if lot:
            row = s.execute(
                sa.text(
                    "SELECT l.id, l.lot_code, i.sku, (SELECT count(DISTINCT child_lot_id) FROM lot_genealogy_edges"
                    " WHERE parent_lot_id = l.id) FROM lots l JOIN items i ON i.id = l.item_id WHERE l.id = :id"
                ),
                {"id": uuid.UUID(lot)},
            ).one()
        else:
            row = s.execute(sa.text(PICK_LOT)).one()
    engine.dispose()
    return tuple(counts), tuple(row)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=os.environ.get("LOTLINE_BENCH_URL", DEFAULT_URL))
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--lot", help="lot id to recall (default: the most widely used raw lot)")
    p.add_argument("--keep", action="store_true", help="keep the recall cases created")
    p.add_argument("--rollback", action="store_true", help="one outer transaction, rolled back at the end")
    p.add_argument("--code", help="another checkout (its src/ is used) measured in the same run")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds of the codes (with --code)")
    p.add_argument(
        "--json", action="store_true", help="print a JSON summary as the last line (bench/run_all.py)"
    )
    p.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker is not None:
        url, lot, repeat = args.worker
        print(json.dumps(recall_figures(url, uuid.UUID(lot), int(repeat), args.rollback)))
        return
    if args.url.rstrip("/").endswith("/lotline_bench") and not args.rollback:
        sys.exit("refusing to write to the shared lotline_bench; use --rollback or a scratch copy")

    counts, (lot_id, lot_code, sku, children) = pick_lot(args.url, args.lot)
    print(
        f"Database {args.url.rsplit('/', 1)[-1]}: {counts[0]:,} movement-lot rows, {counts[1]:,} lots, "
        f"{counts[2]:,} genealogy edges, {counts[3]:,} shipments. Recalling lot {lot_code} of {sku}, "
        f"consumed into {children:,} lots directly.\n"
    )
    codes = [("this code", None)] + ([("starting code", args.code)] if args.code else [])
    figures = measured(args.url, lot_id, args.repeat, args.rollback, codes, args.rounds if args.code else 1)

    print("| trace run, persisted (one transaction) | lots | shipments | customers | median ms | max ms "
          "| floor ms (its statements' server time) | run / floor |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, f in figures.items():
        run, floor = statistics.median(f["runs"]), statistics.median(f["floors"])
        print(
            f"| {name} | {f['lots']:,} | {f['shipments']:,} | {f['customers']:,} | {ms(run)} | {ms(max(f['runs']))} "
            f"| {ms(floor)} | {run / floor:.2f}× |"
        )
    if args.code:
        run = statistics.median(figures["this code"]["runs"])
        base_floor = statistics.median(figures["starting code"]["floors"])
        print(
            f"\nThis code's run / the starting code's floor (the trace's SQL + the inserts, goal ≤ 1.3×): "
            f"{run / base_floor:.2f}×; starting / this code, run: "
            f"{statistics.median(figures['starting code']['runs']) / run:.2f}×"
        )
    print()
    steps = list(figures["this code"]["steps"])
    names = list(figures)
    print("| mock drill step, median ms | " + " | ".join(names) + " | last run (this code) |")
    print("|---|" + "---:|" * len(names) + "---|")
    for step in steps:
        cells = " | ".join(ms(statistics.median(figures[n]["steps"].get(step, [0]))) for n in names)
        print(f"| {step} | {cells} | {figures['this code']['details'][step]} |")
    print(
        "| **total** | "
        + " | ".join(f"**{ms(statistics.median(figures[n]['drills']))}**" for n in names)
        + " | |"
    )
    print("| most-used lot, forward trace (lots + shipments) | "
          + " | ".join(ms(statistics.median(figures[n]["traces"])) for n in names) + " | |")  # fmt: skip
    print("| drill / that trace (goal ≤ 4×) | "
          + " | ".join(f"{statistics.median(figures[n]['drills']) / statistics.median(figures[n]['traces']):.1f}×"
                       for n in names) + " | |")  # fmt: skip
    print(f"\n(bench/bench_recall.py --repeat {args.repeat}{' --rollback' if args.rollback else ''}"
          f"{' --code ' + args.code if args.code else ''}; load avg {os.getloadavg()[0]:.1f} at the end)")  # fmt: skip

    if args.json:
        f = figures["this code"]
        run, floor = statistics.median(f["runs"]), statistics.median(f["floors"])
        total, tr = statistics.median(f["drills"]), statistics.median(f["traces"])
        print(json.dumps({"bench": "recall", "figures": [
            {"name": "recall trace run persisted", "value": round(run * 1000, 1), "unit": "ms",
             "reference": "its statements' server time", "reference_value": round(floor * 1000, 1),
             "ratio": round(run / floor, 3), "goal": "<= 1.3x the trace's floor + inserts"},
            {"name": "mock recall drill", "value": round(total * 1000, 1), "unit": "ms",
             "reference": "most-used lot forward trace", "reference_value": round(tr * 1000, 1),
             "ratio": round(total / tr, 3), "goal": "<= 4x the most-used trace"},
        ]}))  # fmt: skip


if __name__ == "__main__":
    main()
