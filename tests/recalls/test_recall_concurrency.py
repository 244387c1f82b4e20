"""Spec invariants 5 and 7 under real commits: one computed run per case, no partial runs."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.recalls import runs as recall_runs
from lotline.recalls import service as recalls
from lotline.recalls.schemas import CaseIn, TargetIn, TransitionIn
from lotline.trace import service as trace
from tests.builders import sign
from tests.recalls.completion_support import with_strategy
from tests.worlds import build_world

pytestmark = pytest.mark.concurrency


def _counts(engine, number: str) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text(
                    """
                    SELECT 'computed', count(*) FROM recall_trace_runs r JOIN recall_cases c ON c.id = r.recall_case_id
                     WHERE c.recall_number = :n AND r.status = 'computed'
                    UNION ALL
                    SELECT 'runs', count(*) FROM recall_trace_runs r JOIN recall_cases c ON c.id = r.recall_case_id
                     WHERE c.recall_number = :n
                    UNION ALL
                    SELECT 'lots', count(*) FROM recall_impacted_lots
                    UNION ALL
                    SELECT 'shipments', count(*) FROM recall_impacted_shipments
                    """
                ),
                {"n": number},
            ).all()
        )


@pytest.fixture
def case_number(committed_engine) -> str:
    with db.transaction() as s:
        build_world(s)
        case = recalls.create_case(s, CaseIn(recall_number="RC-CONC"))
        recalls.add_target(s, case.id, TargetIn(lot="F-1"))
        with_strategy(s, case)
        recalls.activate(s, case.id, TransitionIn(signature=sign(s)))
    return "RC-CONC"


def _slow_trace(monkeypatch, delay: float = 0.3):
    real = trace.trace

    def slow(*args, **kwargs):
        result = real(*args, **kwargs)
        threading.Event().wait(delay)  # widen the window between reading and writing
        return result

    monkeypatch.setattr(trace, "trace", slow)


def test_concurrent_run_computations_leave_exactly_one_computed_run(
    committed_engine, case_number, monkeypatch
):
    with db.transaction() as s:
        recalls.compute_run(s, case_number)  # a previous computed run both requests will supersede
    _slow_trace(monkeypatch)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def compute():
        barrier.wait()
        try:
            with db.transaction() as s:
                recalls.compute_run(s, case_number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=compute) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    counts = _counts(committed_engine, case_number)
    assert counts["runs"] == 4 and counts["computed"] == 1
    assert counts["lots"] == 4 * 3 and counts["shipments"] == 4 * 3


def test_a_failure_in_the_middle_of_a_run_leaves_no_partial_rows(committed_engine, case_number, monkeypatch):
    with db.transaction() as s:
        first = recalls.compute_run(s, case_number)
    before = _counts(committed_engine, case_number)

    real = recall_runs._insert_impacted

    def boom(*args, **kwargs):
        real(*args, **kwargs)  # the new run and its impacted rows are written, the old run superseded
        raise RuntimeError("disk full while syncing the consignees")

    monkeypatch.setattr(recall_runs, "_insert_impacted", boom)
    with pytest.raises(RuntimeError, match="disk full"), db.transaction() as s:
        recalls.compute_run(s, case_number)
    assert _counts(committed_engine, case_number) == before
    with db.read_snapshot() as s:
        assert recalls.find_run(s, first.id).status == "computed"


def test_a_killed_connection_in_the_middle_of_a_run_leaves_no_partial_rows(
    committed_engine, case_number, monkeypatch
):
    with db.transaction() as s:
        first = recalls.compute_run(s, case_number)
    before = _counts(committed_engine, case_number)
    real = recall_runs._insert_impacted
    written, killed = threading.Event(), threading.Event()
    pid: list[int] = []

    def stall(session, *args, **kwargs):
        real(session, *args, **kwargs)
        pid.append(session.scalar(sa.text("SELECT pg_backend_pid()")))
        written.set()  # the new run and its impacted rows are written, the old run superseded
        killed.wait(10)

    monkeypatch.setattr(recall_runs, "_insert_impacted", stall)
    outcome: list[BaseException] = []

    def compute():
        try:
            with db.transaction() as s:
                recalls.compute_run(s, case_number)
        except BaseException as exc:
            outcome.append(exc)

    t = threading.Thread(target=compute)
    t.start()
    assert written.wait(10)
    with committed_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid[0]}).scalar()
    killed.set()
    t.join(30)
    assert outcome, "the killed computation must fail"
    assert _counts(committed_engine, case_number) == before
    with db.read_snapshot() as s:
        assert recalls.find_run(s, first.id).status == "computed"
