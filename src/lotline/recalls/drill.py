"""Mock recall drill: the whole recall path end to end, timed per step, then canceled.

BRCGS asks for a traceability test at least yearly (full trace in <= 4 h); FSMA 204 for the sortable
spreadsheet within 24 h. The drill shows both in seconds: open a case with the given lots as targets,
initiate it, compute the trace run, plan the standard actions, export the FSMA 204 spreadsheet (CSV
and XLSX), build the recall report (HTML and JSON), then cancel the case — canceling cancels every
planned action, so no stock moves and no customer is contacted.

An entry-point-level use case: each step is its own transaction (``db.transaction()`` /
``db.read_snapshot()``), so the elapsed time per step is what a user of the CLI would see.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lotline.db import read_snapshot, transaction
from lotline.perf import no_gc_pauses
from lotline.recalls import service
from lotline.recalls.schemas import CaseIn, TargetIn, TransitionIn
from lotline.reports import fsma204, recall_report


@dataclass
class Step:
    name: str
    seconds: float
    detail: str


@dataclass
class DrillResult:
    recall_number: str
    case_id: str
    steps: list[Step] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return sum(s.seconds for s in self.steps)


@no_gc_pauses()  # the steps build and keep large results; see lotline.perf
def run_drill(
    lots: Sequence[str],
    *,
    item: str | None = None,
    out_dir: Path | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> DrillResult:
    """Run the drill for ``lots`` (codes or ids; ``item`` disambiguates codes); see module doc."""
    result: DrillResult | None = None

    def timed(name: str, fn):
        start = time.perf_counter()
        detail = fn()
        step = Step(name, time.perf_counter() - start, detail)
        result.steps.append(step)
        if on_step:
            on_step(step)

    start = time.perf_counter()
    with transaction() as s:
        case = service.create_case(
            s,
            CaseIn(
                severity="high", summary="Mock recall drill", notes="mock recall drill; canceled at the end"
            ),
        )
        for lot in lots:
            service.add_target(s, case.id, TargetIn(lot=lot, item=item))
        # a drill's mock case is never a real recall (canceled at the end): no signature
        service.activate(s, case.id, signed=False)
        number, case_id = case.recall_number, case.id
    result = DrillResult(number, str(case_id))
    first = Step(
        "open case, targets, initiate", time.perf_counter() - start, f"{number}, {len(lots)} target lot(s)"
    )
    result.steps.append(first)
    if on_step:
        on_step(first)

    def trace_run():
        with transaction() as s:
            run = service.compute_run(s, case_id)
            runs = service.list_runs(s, service.find_case(s, case_id))
        r = next(x for x in runs if x["id"] == run.id)
        return f"{r['lots']} lots, {r['shipments']} shipments, {r['customers']} customers"

    def plan():
        with transaction() as s:
            return f"{service.plan_all(s, case_id)} actions planned"

    shared: dict[str, list] = {}

    def export():
        with read_snapshot() as s:
            events = service.fsma_events(s, case_id)
        shared["lines"] = events["shipping"]  # the report lists the same lines per customer
        table = fsma204.rows(events)
        csv_text, xlsx = fsma204.to_csv(table), fsma204.to_xlsx(table, title=f"FSMA 204 {number}")
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            for suffix, payload in (("csv", csv_text.encode()), ("xlsx", xlsx)):
                path = out_dir / f"{number}-fsma204.{suffix}"
                path.write_bytes(payload)
                result.files.append(str(path))
        return f"{len(table)} critical tracking events (CSV {len(csv_text):,} B, XLSX {len(xlsx):,} B)"

    def report():
        with read_snapshot() as s:
            data = service.report_data(s, case_id, lines=shared["lines"])
        html, doc = recall_report.to_html(data), recall_report.to_json(data)
        if out_dir is not None:
            for suffix, text in (("html", html), ("json", doc)):
                path = out_dir / f"{number}-report.{suffix}"
                path.write_text(text, encoding="utf-8")
                result.files.append(str(path))
        return f"HTML {len(html):,} B, JSON {len(doc):,} B"

    def cancel():
        with transaction() as s:
            service.cancel(s, case_id, TransitionIn(reason="mock recall drill finished"))
        return "case canceled, planned actions canceled, no stock moved"

    try:
        timed("trace run (persisted)", trace_run)
        timed("plan actions", plan)
        timed("FSMA 204 export (CSV + XLSX)", export)
        timed("recall report (HTML + JSON)", report)
    except BaseException:
        # A drill must not leave an active recall behind: cancel it, then report the failure.
        with transaction() as s:
            service.cancel(s, case_id, TransitionIn(reason="mock recall drill failed"))
        raise
    timed("cancel", cancel)
    return result
