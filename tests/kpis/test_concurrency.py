"""Two real connections computing / publishing the same run: the run row lock makes one win and the
other see the committed state and refuse (no duplicate snapshots, no publish of a half state)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.errors import InvalidStateTransition
from lotline.kpis import service as kpis
from lotline.kpis.schemas import RunIn
from lotline.models import KpiSnapshot
from tests.builders import make_item, make_location, make_vendor, receive

pytestmark = pytest.mark.concurrency
TIMEOUT = 20


class Racer(threading.Thread):
    def __init__(self, fn, hold: threading.Event | None = None):
        super().__init__(daemon=True)
        self.fn, self.hold = fn, hold
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            with db.transaction() as s:
                self.fn(s)
                self.done.set()
                if self.hold is not None and not self.hold.wait(TIMEOUT):
                    raise TimeoutError("never released")
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self.done.set()


def _wait_until_blocked(engine, racer: Racer, seconds: float = 5) -> None:
    """Give the second session time to reach the run lock (seen waiting on a Lock, or a timeout)."""
    deadline = time.monotonic() + seconds
    with engine.connect() as conn:
        while time.monotonic() < deadline and racer.is_alive():
            waiting = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
            if waiting:
                return
            time.sleep(0.02)


def test_two_sessions_computing_the_same_draft_one_computes_the_other_is_refused(committed_engine):
    with db.transaction() as s:
        make_vendor(s)
        receive(
            s,
            make_item(s, "FLOUR"),
            make_location(s, "WH1"),
            "F-1",
            10,
            when=datetime(2026, 1, 3, tzinfo=UTC),
        )
        run_id = kpis.create_run(
            s,
            RunIn(window_start=datetime(2026, 1, 1, tzinfo=UTC), window_end=datetime(2026, 2, 1, tzinfo=UTC)),
        ).id
    release = threading.Event()
    first = Racer(lambda s: kpis.compute_run(s, run_id), hold=release)
    first.start()
    assert first.done.wait(TIMEOUT) and first.error is None, first.error
    second = Racer(lambda s: kpis.compute_run(s, run_id))
    second.start()
    try:
        _wait_until_blocked(committed_engine, second)
    finally:
        release.set()
        first.join(TIMEOUT)
        second.join(TIMEOUT)
    assert first.error is None
    assert isinstance(second.error, InvalidStateTransition), repr(second.error)
    assert "computed once" in str(second.error)
    with committed_engine.connect() as conn:
        n = conn.execute(
            sa.select(sa.func.count()).select_from(KpiSnapshot).where(KpiSnapshot.kpi_run_id == run_id)
        ).scalar_one()
        overall = conn.execute(
            sa.select(sa.func.count())
            .select_from(KpiSnapshot)
            .where(
                KpiSnapshot.kpi_run_id == run_id,
                KpiSnapshot.dimensions == sa.cast({}, KpiSnapshot.dimensions.type),
            )
        ).scalar_one()
    assert overall == len(kpis.KPIS) and n > overall
