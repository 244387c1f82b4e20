"""Peak memory of the FSMA 204 XLSX export: the writer at a baseline git revision against today's.

    .venv/bin/python bench/bench_export_memory.py --url postgresql://postgres@127.0.0.1:5432/mine
                                                  [--baseline-rev bdb5d1c] [--repeat 3] [--lot LOT_ID]

Opens a recall of the most widely used raw lot (as bench_recall.py picks it) and computes its trace
run, then, for each writer and repetition, starts a fresh Python process that gathers the FSMA 204
rows in one snapshot and writes the XLSX (and, as a yardstick, the CSV). Each process reports the
time of the write, its peak of traced Python allocations above the start (tracemalloc, a second
run) and its resident-memory peak above the resident size just before it (Linux: the peak is reset
through /proc/self/clear_refs; it understates, since freed memory is reused). The baseline writer is
``src/lotline/reports/xlsx.py`` as it was at ``--baseline-rev``, loaded from git; everything else
is today's code. The case it creates is deleted at the end. It writes to the database: use your own.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
import types
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _status(field: str) -> int:
    """A /proc/self/status figure in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _measure(fn):
    """(result, seconds, traced peak bytes above the start, resident peak bytes above the start).

    Timed untraced first; then run again under tracemalloc, whose peak counts every Python
    allocation made meanwhile (the resident peak can hide them in memory the process freed before
    and reuses; it is shown as well).
    """
    gc.collect()
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    del out
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident size
    start_rss = _status("VmRSS")
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    out = fn()
    traced_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return out, seconds, traced_peak, _status("VmHWM") - start_rss


def _baseline_writer(rev: str) -> types.ModuleType:
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src/lotline/reports/xlsx.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("baseline_xlsx")
    exec(compile(source, f"{rev}:xlsx.py", "exec"), module.__dict__)
    return module


def child(case_id: str, writer: str, rev: str) -> None:
    from lotline import db

    sys.path.insert(0, str(ROOT))  # the Python writers live on as the tests' reference (tests/reports)
    from tests.reports import fsma204_reference as fsma204

    with db.read_snapshot() as s:
        table = fsma204.rows(fsma204.fsma_events(s, case_id))
    module = _baseline_writer(rev) if writer == "baseline" else fsma204.xlsx
    header = [label for _, label in fsma204.COLUMNS]
    widths = [max(12, min(40, len(label) + 2)) for label in header]
    xlsx, x_seconds, x_peak, x_rss = _measure(
        lambda: module.write(header, table, title="FSMA 204", widths=widths)
    )
    csv_text, c_seconds, c_peak, c_rss = _measure(lambda: fsma204.to_csv(table))
    print(
        json.dumps(
            {
                "rows": len(table),
                "xlsx_bytes": len(xlsx),
                "xlsx_seconds": x_seconds,
                "xlsx_peak": x_peak,
                "xlsx_rss": x_rss,
                "csv_bytes": len(csv_text),
                "csv_seconds": c_seconds,
                "csv_peak": c_peak,
                "csv_rss": c_rss,
            }
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="a database of your own (a case is created and deleted)")
    p.add_argument("--baseline-rev", default="bdb5d1c", help="git revision of the baseline xlsx writer")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--lot", help="lot id to recall (default: the most widely used raw lot)")
    p.add_argument("--child", nargs=2, metavar=("CASE_ID", "WRITER"), help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ["LOTLINE_DATABASE_URL"] = args.url
    if args.child:
        child(args.child[0], args.child[1], args.baseline_rev)
        return

    import sqlalchemy as sa
    from rich.console import Console
    from rich.table import Table

    from lotline import db
    from lotline.recalls import cases, runs
    from lotline.recalls.schemas import CaseIn, TargetIn

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_recall import PICK_LOT

    console = Console(width=160)
    with db.transaction() as s:
        lot_id = uuid.UUID(args.lot) if args.lot else s.execute(sa.text(PICK_LOT)).one()[0]
        case = cases.create_case(s, CaseIn(summary="bench: export memory", severity="low"))
        cases.add_target(s, case.id, TargetIn(lot=str(lot_id)))
        cases.activate(s, case.id)
        runs.compute_run(s, case.id)
        case_id = str(case.id)
    results: dict[str, list[dict]] = {"baseline": [], "current": []}
    try:
        for _ in range(args.repeat):
            for writer in results:  # interleaved, so drift on a shared machine hits both alike
                out = subprocess.run(
                    [sys.executable, __file__, "--url", args.url, "--baseline-rev", args.baseline_rev,
                     "--child", case_id, writer],
                    check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                results[writer].append(json.loads(out.strip().splitlines()[-1]))
    finally:
        with db.transaction() as s:
            s.execute(sa.text("DELETE FROM recall_cases WHERE id = :id"), {"id": uuid.UUID(case_id)})

    def med(writer: str, key: str) -> float:
        return statistics.median(r[key] for r in results[writer])

    rows = results["current"][0]["rows"]
    table = Table(title=f"FSMA 204 export of {rows:,} rows (median of {args.repeat} fresh processes)")
    cols = ("writer", "XLSX traced peak MB", "XLSX RSS peak MB", "XLSX ms", "XLSX bytes", "CSV traced peak MB",
            "CSV ms", "traced peak vs baseline")  # fmt: skip
    for col in cols:
        table.add_column(col, justify="right")
    base_peak = med("baseline", "xlsx_peak")
    for writer in results:
        table.add_row(
            f"{writer} ({args.baseline_rev})" if writer == "baseline" else "current",
            f"{med(writer, 'xlsx_peak') / 2**20:,.1f}",
            f"{med(writer, 'xlsx_rss') / 2**20:,.1f}",
            f"{med(writer, 'xlsx_seconds') * 1000:,.0f}",
            f"{med(writer, 'xlsx_bytes'):,.0f}",
            f"{med(writer, 'csv_peak') / 2**20:,.1f}",
            f"{med(writer, 'csv_seconds') * 1000:,.0f}",
            f"{med(writer, 'xlsx_peak') / base_peak:.2f}x" if base_peak else "-",
        )
    console.print(table)


if __name__ == "__main__":
    main()
