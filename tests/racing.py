"""Two real transactions racing, made deterministic.

``race(engine, first, second)`` runs ``first(session)`` in its own ``db.transaction()`` and keeps it
open; starts ``second(session)`` in another; waits until the second is seen *waiting on a lock* in
pg_stat_activity; then lets the first commit. Both racers report their result or error.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from lotline import db

TIMEOUT = 20


class Racer(threading.Thread):
    """Runs ``fn(session)`` in its own ``db.transaction()``; optionally holds it open before commit."""

    def __init__(self, fn, hold: threading.Event | None = None):
        super().__init__(daemon=True)
        self.fn, self.hold = fn, hold
        self.posted = threading.Event()
        self.error: BaseException | None = None
        self.result = None

    def run(self):
        try:
            with db.transaction() as s:
                self.result = self.fn(s)
                self.posted.set()
                if self.hold is not None and not self.hold.wait(TIMEOUT):
                    raise TimeoutError("never released")
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self.posted.set()


def lock_waiters(engine) -> int:
    """Backends of this database waiting on a lock now.

    Autocommit: pg_stat_activity is a snapshot taken once per transaction, so polling inside one
    transaction would never see a change.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()


def wait_until_blocked(engine, racer: Racer) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if lock_waiters(engine):
            return
        if not racer.is_alive():
            pytest.fail(f"the second posting finished without waiting for the first: {racer.error!r}")
        time.sleep(0.02)
    pytest.fail("the second posting never waited on a lock")


def race(engine, first_fn, second_fn) -> tuple[Racer, Racer]:
    release = threading.Event()
    first = Racer(first_fn, hold=release)
    first.start()
    assert first.posted.wait(TIMEOUT) and first.error is None, first.error
    second = Racer(second_fn)
    second.start()
    try:
        wait_until_blocked(engine, second)
    finally:
        release.set()
        first.join(TIMEOUT)
        second.join(TIMEOUT)
    return first, second
