"""Run every benchmark and print one table: each figure beside its baseline, peer or floor, and the ratio.

    .venv/bin/python bench/run_all.py --url postgresql://postgres@127.0.0.1:5432/bench_copy \\
        [--scale-urls URL_S100,URL_S300] [--only trace,kpi] [--skip epcis] [--quick] [--json]
    ./dev bench --url ...            (the same)

``--url``: the benchmark data set (``lotline generate --scale 1000``) — a COPY of lotline_bench
(``CREATE DATABASE x TEMPLATE lotline_bench``), because the posting and recall benchmarks write to it;
lotline_bench itself is refused. ``--scale-urls``: the smaller scales' databases (copies too): the
trace scaling table runs over them and ``--url`` (the reference), the posting benchmark's shipment
cost compares the first of them with ``--url``. The audit and EPCIS benchmarks build (and drop)
their own scratch databases on the same server.

Each benchmark is its own script, run here as a subprocess with ``--json`` (the scripts print their
own tables and, with ``--json``, a last line {"bench": name, "figures": [{name, value, unit,
reference, reference_value, ratio, goal}, ...]}); their full output goes to stderr as it comes
(``--quiet`` keeps only this table). Figures are only comparable within one run on this shared
machine: every ratio here is to a baseline, peer or floor measured in the same script run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

HERE = Path(__file__).parent


@dataclass
class Bench:
    name: str
    script: str
    argv: Callable[[argparse.Namespace], list[str] | None]  # None: skipped (what it needs is missing)
    why_skipped: str = ""


def _server(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


BENCHES = [
    Bench("trace", "bench_trace.py", lambda a: ["--database-url", a.url] + (["--samples", "50", "--repeat", "3"] if a.quick else [])),
    Bench("scaling", "bench_trace_scaling.py",
          lambda a: [*a.scale_urls, a.url] + (["--repeat", "3"] if a.quick else []) if a.scale_urls else None,
          "needs --scale-urls"),
    Bench("recall", "bench_recall.py", lambda a: ["--url", a.url] + (["--repeat", "2"] if a.quick else [])),
    Bench("kpi", "bench_kpi.py", lambda a: ["--url", a.url] + (["--repeat", "2"] if a.quick else [])),
    Bench("posting", "bench_posting.py",
          lambda a: ["--database-url", a.url, "--seconds", "8" if a.quick else "20"]
          + (["--size-urls", f"{a.scale_urls[0]},{a.url}"] if a.scale_urls else [])),
    Bench("audit", "bench_audit.py",
          lambda a: ["--url", _server(a.url, "lotline_run_all_audit")] + (["--rounds", "10"] if a.quick else [])),
    Bench("epcis", "bench_epcis.py",
          lambda a: ["--server", _server(a.url, "postgres")] + (["--events", "20000"] if a.quick else [])),
    Bench("console", "bench_console.py", lambda a: ["--database-url", a.url] + (["--repeat", "5"] if a.quick else [])),
    Bench("http", "bench_http.py",
          lambda a: ["--database-url", a.url, "--clients", "1,8", "--workers", "1,2"] + (["--rounds", "1"] if a.quick else [])),
]


def _summary(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                doc = json.loads(line)
            except ValueError:
                return None
            return doc if isinstance(doc, dict) and "figures" in doc else None
    return None


def run(bench: Bench, args: argparse.Namespace, console: Console) -> tuple[list[dict], str]:
    """(figures, note): the script's summary figures, or none and why."""
    script = HERE / bench.script
    if not script.exists():
        return [], "no such script"
    argv = bench.argv(args)
    if argv is None:
        return [], f"skipped: {bench.why_skipped}"
    cmd = [sys.executable, str(script), *argv, "--json"]
    console.print(f"[bold]{bench.name}[/]: {' '.join(cmd[1:])}", highlight=False)
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=False)
    except subprocess.TimeoutExpired:
        return [], f"timed out after {args.timeout} s"
    seconds = time.perf_counter() - t0
    if not args.quiet:
        sys.stderr.write(done.stdout + done.stderr)
    summary = _summary(done.stdout)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return (summary or {}).get("figures", []), f"exit {done.returncode}: {tail[:120]}"
    if summary is None:
        return [], f"no --json summary (see its output); {seconds:.0f} s"
    return summary["figures"], f"{seconds:.0f} s"


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-2 and value else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="a copy of the scale-1000 benchmark data (never lotline_bench)")
    p.add_argument("--scale-urls", default="", help="comma-separated copies of smaller scales (e.g. 100, 300)")
    p.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(b.name for b in BENCHES)}")
    p.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    p.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run; figures noisier)")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per benchmark")
    p.add_argument("--quiet", action="store_true", help="do not pass the scripts' own output through")
    p.add_argument("--json", action="store_true", help="print every figure as one JSON document at the end")
    args = p.parse_args()
    args.scale_urls = [u for u in args.scale_urls.split(",") if u]
    for url in [args.url, *args.scale_urls]:
        if make_url(url).database == "lotline_bench":
            p.error("lotline_bench is shared and read-only: give a copy (CREATE DATABASE x TEMPLATE lotline_bench)")
    names = {b.name for b in BENCHES}
    only = {x for x in args.only.split(",") if x} or names
    skip = {x for x in args.skip.split(",") if x}
    if unknown := (only | skip) - names:
        p.error(f"unknown benchmark(s) {sorted(unknown)}; known: {sorted(names)}")
    console = Console(stderr=True)
    rows: list[tuple[str, dict | None, str]] = []
    for bench in BENCHES:
        if bench.name not in only or bench.name in skip:
            continue
        figures, note = run(bench, args, console)
        rows.extend((bench.name, f, note) for f in figures)
        if not figures:
            rows.append((bench.name, None, note))

    table = Table(title=f"lotline benchmarks on {make_url(args.url).database} (ratios within each script's run)")
    for col in ("bench", "figure", "value", "unit", "baseline / peer / floor", "its value", "ratio", "goal"):
        table.add_column(col, justify="right" if col in ("value", "its value", "ratio") else "left")
    for name, f, note in rows:
        if f is None:
            table.add_row(name, f"[dim]{note}[/]", "", "", "", "", "", "")
            continue
        table.add_row(name, f["name"], _fmt(f.get("value")), f.get("unit") or "", f.get("reference") or "",
                      _fmt(f.get("reference_value")), _fmt(f.get("ratio")), f.get("goal") or "")
    Console(width=max(Console().width, 180)).print(table)
    if args.json:
        print(json.dumps({"url": make_url(args.url).database,
                          "figures": [{"bench": n, **f} for n, f, _ in rows if f is not None],
                          "missing": {n: note for n, f, note in rows if f is None}}))


if __name__ == "__main__":
    main()
