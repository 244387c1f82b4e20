"""Mock recall drill: the whole recall path end to end, timed per step, then canceled.

BRCGS asks for a traceability test at least yearly (full trace in <= 4 h); FSMA 204 for the sortable
spreadsheet within 24 h. The drill shows both in seconds: open a case with the given lots as targets,
initiate it, compute the trace run, plan the standard actions, export the FSMA 204 spreadsheet (CSV
and XLSX), build the recall report (HTML and JSON), then cancel the case — canceling cancels every
planned action, so no stock moves and no customer is contacted.

An entry-point-level use case: each step is its own transaction (``db.transaction()`` /
``db.read_snapshot()``), so the elapsed time per step is what a user of the CLI would see.

The export needs only the run's id sets (its impacted lots and shipments: never the actions, and
nothing else of the run) and the ledger, read in a snapshot of its own. So it starts as soon as the
trace run's impacted rows are inserted — the ids are read in the run's transaction and handed over,
while that transaction still syncs the consignees and commits — on a second pooled connection in a
worker thread, and goes on while this thread plans the actions and builds the report (which shows
the planned actions, so it comes after the plan). If the run then fails, the drill fails and the
export is waited for and dropped; it wrote nothing. The export's time is
mostly the server rendering the spreadsheet (the thread waits on the socket, without the GIL)
while the report's is mostly Python building and rendering its data. Their files are the same as
one after the other; each step keeps its own elapsed time, the steps are recorded in the drill's
order, and the drill's total is the wall time. When sessions share one connection
(``db.configure_sessions`` bound to an outer transaction: tests, ``bench_recall.py --rollback``) a
second thread cannot use it, and the steps run one after the other.

A failing step stops the drill and cancels the case ("mock recall drill failed");
when the export and the plan or report beside it both fail, the first in the drill's order is
raised and the other is attached to it (a note, and its ``__context__``), so neither is lost.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from lotline.db import read_snapshot, transaction
from lotline.models import RecallTraceRun
from lotline.perf import no_gc_pauses
from lotline.recalls import actions, cases, runs, strategy
from lotline.recalls.completion_schemas import StrategyIn
from lotline.recalls.schemas import CaseIn, TargetIn, TransitionIn
from lotline.reports import files as report_files
from lotline.reports import fsma204_export, recall_data, recall_report
from lotline.types import utcnow


def drill_strategy(lots: Sequence[str]) -> StrategyIn:
    """The strategy a drill runs under: a class II retail recall with level C checks, a week to answer."""
    return StrategyIn(
        fda_class="II", depth="retail", public_warning="none", effectiveness_level="C",
        reason="mock recall drill", health_hazard="none (drill)",
        product_description=f"products made from lot(s) {', '.join(lots)}",
        response_deadline=utcnow() + timedelta(days=7),
    )

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
    # the wall time from the start to the end of the drill (steps overlap: not their sum)
    total_seconds: float = 0.0


@dataclass
class _Drill:
    """One drill's steps, each its own transaction."""

    result: DrillResult
    out_dir: Path | None
    # the files each step wrote, handed to the result in step order (the two may run side by side)
    kept: dict[str, list[str]] = field(default_factory=lambda: {"fsma204": [], "report": []})
    # whether each session gets its own connection, so the export can read beside the other steps
    separate: bool = False

    @property
    def case_id(self) -> str:
        return self.result.case_id

    def _keep(self, kind: str, suffix: str, payload: bytes) -> None:
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / report_files.export_name(self.result.recall_number, kind, suffix)
        path.write_bytes(payload)
        self.kept[kind].append(str(path))

    def trace_run(self, start_export: Callable[[fsma204_export.Sources], None]) -> str:
        with transaction() as s:
            # a session of the pool (bound to the engine) gets a connection of its own; one bound to an
            # outer connection (tests, --rollback) shares it: decided here, without a transaction of its own
            self.separate = isinstance(s.get_bind(), sa.Engine)

            def inserted(run: RecallTraceRun) -> None:
                # the run's id sets, read in this transaction as soon as they are inserted
                start_export(fsma204_export.run_sources(s, self.case_id, run.id))

            run = runs.compute_run(s, self.case_id, after_insert=inserted if self.separate else None)
            listed = runs.list_runs(s, cases.find_case(s, self.case_id))
        r = next(x for x in listed if x["id"] == run.id)
        return f"{r['lots']} lots, {r['shipments']} shipments, {r['customers']} customers"

    def plan(self) -> str:
        with transaction() as s:
            return f"{actions.plan_all(s, self.case_id)} actions planned"

    def export(self, sources: fsma204_export.Sources | None = None) -> str:
        number = self.result.recall_number
        with read_snapshot() as s:
            # rendered by the database, both files from one statement (reports.fsma204_export)
            sources = sources or fsma204_export.run_sources(s, self.case_id)
            done = fsma204_export.export(s, sources, title=f"FSMA 204 {number}")
        assert done.csv is not None and done.xlsx is not None
        self._keep("fsma204", "csv", done.csv)
        self._keep("fsma204", "xlsx", done.xlsx)
        return f"{done.rows} critical tracking events (CSV {len(done.csv):,} B, XLSX {len(done.xlsx):,} B)"

    def report(self) -> str:
        with read_snapshot() as s:
            data = recall_data.report_data(s, self.case_id)
        html, doc = recall_report.to_html(data), recall_report.to_json(data)
        self._keep("report", "html", html.encode("utf-8"))
        self._keep("report", "json", doc.encode("utf-8"))
        return f"HTML {len(html):,} B, JSON {len(doc):,} B"

    def cancel(self, reason: str = "mock recall drill finished") -> str:
        with transaction() as s:
            cases.cancel(s, self.case_id, TransitionIn(reason=reason))
        return "case canceled, planned actions canceled, no stock moved"


def _first_of(failed: list[tuple[int, str, BaseException]]) -> BaseException:
    """The failure first in the drill's order, each other one attached to it (a note naming the step
    and the error, and as its ``__context__`` when it has none): both are reported, neither masks."""
    failed.sort(key=lambda f: f[0])
    first = failed[0][2]
    for _, step, other in failed[1:]:
        first.add_note(f"the {step} step failed too: {type(other).__name__}: {other}")
        if first.__context__ is None:
            first.__context__ = other
    return first


def _open_case(lots: Sequence[str], item: str | None) -> tuple[str, str]:
    with transaction() as s:
        case = cases.create_case(
            s,
            CaseIn(
                severity="high", summary="Mock recall drill", notes="mock recall drill; canceled at the end"
            ),
        )
        for lot in lots:
            cases.add_target(s, case.id, TargetIn(lot=lot, item=item))
        strategy.set_strategy(s, case, drill_strategy(lots))
        # a drill's mock case is never a real recall (canceled at the end): no signature
        cases.activate(s, case.id, signed=False)
        return case.recall_number, str(case.id)


@no_gc_pauses()  # the steps build and keep large results; see lotline.perf
def run_drill(  # noqa: C901 — one timed sequence of steps, its failure paths beside them
    lots: Sequence[str],
    *,
    item: str | None = None,
    out_dir: Path | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> DrillResult:
    """Run the drill for ``lots`` (codes or ids; ``item`` disambiguates codes); see module doc."""
    start = time.perf_counter()
    number, case_id = _open_case(lots, item)
    result = DrillResult(number, case_id)
    drill = _Drill(result, out_dir)

    def record(name: str, seconds: float, detail: str) -> None:
        step = Step(name, seconds, detail)
        result.steps.append(step)
        if on_step:
            on_step(step)

    def clocked(fn: Callable[[], str]) -> tuple[float, str]:
        t = time.perf_counter()
        detail = fn()
        return time.perf_counter() - t, detail

    def timed(name: str, fn: Callable[[], str]) -> None:
        record(name, *clocked(fn))

    # the caller's context (the acting user, timeouts) goes with the export
    context = contextvars.copy_context()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drill-export")
    exported: list[Future[tuple[float, str]]] = []

    def start_export(sources: fsma204_export.Sources) -> None:
        exported.append(pool.submit(context.run, clocked, lambda: drill.export(sources)))

    def after_the_run() -> None:
        """Plan, export and report: the export beside the other two when it has its own connection."""
        if not drill.separate:
            timed("plan actions", drill.plan)
            timed("FSMA 204 export (CSV + XLSX)", drill.export)
            timed("recall report (HTML + JSON)", drill.report)
            return
        failed: list[tuple[int, str, BaseException]] = []  # (place in the drill's order, step, error)
        done: dict[str, tuple[float, str]] = {}
        place, step = 0, "plan"
        try:
            timed("plan actions", drill.plan)
            place, step = 2, "recall report"
            done["report"] = clocked(drill.report)
        except BaseException as exc:
            failed.append((place, step, exc))  # raised below, once the export is over too
        try:
            done["export"] = exported[0].result()  # waits
        except BaseException as exc:
            failed.append((1, "FSMA 204 export", exc))
        if failed:
            raise _first_of(failed)
        # recorded in the drill's order, whichever finished first
        record("FSMA 204 export (CSV + XLSX)", *done["export"])
        record("recall report (HTML + JSON)", *done["report"])

    record(
        "open case, targets, initiate", time.perf_counter() - start, f"{number}, {len(lots)} target lot(s)"
    )
    try:
        with pool:
            try:
                timed("trace run (persisted)", lambda: drill.trace_run(start_export))
            except BaseException as exc:
                # the export may have started from the run's ids before the run failed: let it end
                if exported and (export_error := exported[0].exception()) is not None:
                    raise _first_of([(0, "trace run", exc), (1, "FSMA 204 export", export_error)])  # noqa: B904 — exc itself
                raise
            after_the_run()
    except BaseException:
        # A drill must not leave an active recall behind: cancel it, then report the failure.
        drill.cancel("mock recall drill failed")
        raise
    timed("cancel", drill.cancel)
    result.files = drill.kept["fsma204"] + drill.kept["report"]
    result.total_seconds = time.perf_counter() - start
    return result
