"""Retrying a use case at its entrypoint when the database says a concurrent one got in the way.

Only serialization failures (40001), deadlocks (40P01) and lock timeouts (55P03) are retried —
the transaction was rolled back whole, so running the use case again from the start is safe and
usually succeeds (the other transaction has finished). Everything else, domain refusals included,
is raised at once. Retries are bounded (``ATTEMPTS`` runs in all) with a short, jittered,
growing pause so that colliding clients do not collide again in step; after the last attempt the
``ConcurrencyConflict`` reaches the client (HTTP 409, CLI exit 5) as before.

Entry points use ``run_transaction(fn)`` (CLI commands) or ``run(fn)`` around anything that opens
its own ``transaction()``; the HTTP API's posting routes re-run the whole request through the
same policy (``lotline.api.deps.RetryingRoute``). Services never retry: a retry inside a
transaction that the database has aborted cannot succeed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from lotline import errors
from lotline.db.errors import RETRYABLE
from lotline.db.session import transaction

T = TypeVar("T")

ATTEMPTS = 6
BASE_DELAY = 0.005  # seconds; doubled per attempt, capped, then jittered
MAX_DELAY = 0.2


def retryable(exc: BaseException) -> bool:
    """True for the concurrency failures that a fresh transaction can get past."""
    return isinstance(exc, errors.ConcurrencyConflict) and exc.details.get("sqlstate") in RETRYABLE


def delay(attempt: int) -> float:
    """Pause before attempt ``attempt + 1`` (full jitter: uniform in [0, cap])."""
    return random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2**attempt))


def run(fn: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """``fn()``, run again (up to ``attempts`` runs) while it fails with a retryable conflict."""
    for attempt in range(attempts):
        try:
            return fn()
        except errors.ConcurrencyConflict as exc:
            if not retryable(exc) or attempt == attempts - 1:
                raise
            time.sleep(delay(attempt))
    raise AssertionError("unreachable")


def run_transaction(fn: Callable[[Session], T], *, isolation: str | None = None, attempts: int = ATTEMPTS) -> T:
    """``fn(session)`` in its own ``transaction()``, retried whole on a retryable conflict."""

    def once() -> T:
        with transaction(isolation) as session:
            return fn(session)

    return run(once, attempts=attempts)
