"""Recall benchmark: a persisted trace run and the whole mock recall drill on generated data.

    .venv/bin/python bench/bench_recall.py [--url postgresql://postgres@127.0.0.1:5432/lotline_bench]
                                           [--repeat 5] [--lot LOT_ID] [--keep]

Picks the most widely used raw lot (a lot no execution produced, consumed into the most distinct
lots), then measures, each ``--repeat`` times, on a warm database:

1. ``recall trace``: one transaction that locks the case, traces forward and backward as of now,
   supersedes the previous run and inserts the run, its impacted lots and impacted shipments
   (spec invariants 5 and 7), committed — the time a user waits for ``lotline recall trace``;
2. ``recall mock``: the drill end to end (case + target + initiate, trace run, plan actions,
   FSMA 204 CSV + XLSX, report HTML + JSON, cancel), per step and in total.

Targets (issue 4): trace run persisted <= 1 s, whole drill <= 3 s. The cases it creates are deleted
afterwards (cascading to runs, impacted rows and actions) unless ``--keep``; no stock moves. With
``--rollback`` nothing is ever committed (for a shared database).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

from rich.console import Console
from rich.table import Table

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


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=os.environ.get("LOTLINE_BENCH_URL", DEFAULT_URL))
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--lot", help="lot id to recall (default: the most widely used raw lot)")
    p.add_argument("--keep", action="store_true", help="keep the recall cases created")
    p.add_argument(
        "--rollback",
        action="store_true",
        help="run everything inside one outer transaction rolled back at the end (for a shared database"
        " that must not be written to): each step's commit becomes a savepoint release",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line (bench/run_all.py)")
    args = p.parse_args()
    os.environ["LOTLINE_DATABASE_URL"] = args.url  # read by lotline.db.get_engine()

    import sqlalchemy as sa

    from lotline import db
    from lotline.recalls import service
    from lotline.recalls.flows import drill
    from lotline.recalls.schemas import CaseIn, TargetIn

    console = Console()
    engine = db.get_engine()
    outer = None
    if args.rollback:
        from sqlalchemy.orm import sessionmaker

        conn = engine.connect()
        outer = conn.begin()
        factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        db.configure_sessions(factory, snapshots=False)
        console.print("[dim]--rollback: one outer transaction, rolled back at the end[/]")
    with engine.connect() as conn:
        counts = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM inventory_movement_lots), (SELECT count(*) FROM lots),"
                " (SELECT count(*) FROM lot_genealogy_edges), (SELECT count(*) FROM sales_order_shipments)"
            )
        ).one()
        if args.lot:
            row = conn.execute(
                sa.text(
                    "SELECT l.id, l.lot_code, i.sku, (SELECT count(DISTINCT child_lot_id) FROM lot_genealogy_edges"
                    " WHERE parent_lot_id = l.id) FROM lots l JOIN items i ON i.id = l.item_id WHERE l.id = :id"
                ),
                {"id": uuid.UUID(args.lot)},
            ).one()
        else:
            t = time.perf_counter()
            row = conn.execute(sa.text(PICK_LOT)).one()
            console.print(f"[dim]picked the lot in {ms(time.perf_counter() - t)} ms[/]")
    lot_id, lot_code, sku, children = row
    console.print(
        f"database {engine.url.database}: {counts[0]:,} movement-lot rows, {counts[1]:,} lots, "
        f"{counts[2]:,} genealogy edges, {counts[3]:,} shipments"
    )
    console.print(f"recalling lot {lot_code} of {sku} ({lot_id}), consumed into {children:,} lots directly\n")

    created: list[uuid.UUID] = []
    runs: list[float] = []
    totals: list[float] = []
    try:
        with db.transaction() as s:
            case = service.create_case(s, CaseIn(summary="bench: persisted trace run", severity="low"))
            service.add_target(s, case.id, TargetIn(lot=str(lot_id)))
            service.activate(s, case.id)
            case_id = case.id
        created.append(case_id)

        detail = None
        for _ in range(args.repeat):
            t = time.perf_counter()
            with db.transaction() as s:
                run = service.compute_run(s, case_id)
                run_id = run.id
            runs.append(time.perf_counter() - t)
            with db.read_snapshot() as s:
                detail = next(
                    r for r in service.list_runs(s, service.find_case(s, case_id)) if r["id"] == run_id
                )
        with db.read_snapshot() as s:
            states = [r["status"] for r in service.list_runs(s, service.find_case(s, case_id))]
        assert states.count("computed") == 1, states

        table = Table(title="recall trace run, persisted (one transaction, committed)", header_style="bold")
        for col in (
            "impacted lots",
            "shipments",
            "customers",
            "first ms",
            "min ms",
            "median ms",
            "max ms",
            "target",
        ):
            table.add_column(col, justify="right")
        table.add_row(
            f"{detail['lots']:,}",
            f"{detail['shipments']:,}",
            f"{detail['customers']:,}",
            ms(runs[0]),
            ms(min(runs)),
            ms(statistics.median(runs)),
            ms(max(runs)),
            "<= 1,000",
        )
        console.print(table)

        steps: dict[str, list[float]] = {}
        details: dict[str, str] = {}
        for _ in range(args.repeat):
            result = drill.run_drill([str(lot_id)])
            created.append(uuid.UUID(result.case_id))
            totals.append(result.total_seconds)
            for step in result.steps:
                steps.setdefault(step.name, []).append(step.seconds)
                details[step.name] = step.detail
        table = Table(title=f"lotline recall mock --lot {lot_code} (x{args.repeat})", header_style="bold")
        table.add_column("step")
        table.add_column("median ms", justify="right")
        table.add_column("max ms", justify="right")
        table.add_column("last run")
        for name, values in steps.items():
            table.add_row(name, ms(statistics.median(values)), ms(max(values)), details[name])
        table.add_row("[bold]total[/]", ms(statistics.median(totals)), ms(max(totals)), "target <= 3,000 ms")
        console.print(table)
    finally:
        if outer is not None:
            outer.rollback()
            console.print("[dim]rolled back: nothing written[/]")
        elif created and not args.keep:
            with db.transaction() as s:
                s.execute(sa.text("DELETE FROM recall_cases WHERE id = ANY(:ids)"), {"ids": created})
            console.print(f"[dim]deleted the {len(created)} recall cases created by the benchmark[/]")
    if args.json and runs and totals:
        print(json.dumps({"bench": "recall", "figures": [
            {"name": "recall trace run persisted", "value": round(statistics.median(runs) * 1000, 1), "unit": "ms",
             "reference": None, "reference_value": None, "ratio": None, "goal": "<= 1.3x the trace's floor + inserts"},
            {"name": "mock recall drill", "value": round(statistics.median(totals) * 1000, 1), "unit": "ms",
             "reference": "recall trace run persisted", "reference_value": round(statistics.median(runs) * 1000, 1),
             "ratio": round(statistics.median(totals) / statistics.median(runs), 3),
             "goal": "<= 4x the most-used trace"},
        ]}))


if __name__ == "__main__":
    main()
