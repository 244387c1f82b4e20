"""What every recall room shares: the lifecycle tables, the time rules, and how recall SQL runs.

Recall SQL lives in ``recalls/sql/*.sql`` (psycopg ``%(name)s`` parameters, each cast in the SQL)
and runs through the one runner, ``lotline.db.sql`` (``run_sql``, ``sql_rows``, ``sql_dicts``).
The statements touch 10^4-10^5 rows by index; JIT compilation costs more than it saves (~100 ms per
statement measured on the bench data) and sorting the impacted lines of a much-used lot spills to
disk at the default work_mem. So the use cases that run them are wrapped in ``tuned``: the settings
are set once for the use case with ``db.local_settings`` (as traces and KPI runs do) and put back
when it ends, instead of a ``SET LOCAL`` before every statement.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar, cast

from sqlalchemy.orm import Session

from lotline.db import local_settings, sql
from lotline.errors import InvalidInput, InvalidStateTransition
from lotline.models import RecallCase
from lotline.types import utcnow
from lotline.vocab import ActionStatus, RecallStatus

CASE_TRANSITIONS: dict[str, set[str]] = {
    RecallStatus.DRAFT: {RecallStatus.ACTIVE, RecallStatus.CANCELED},
    RecallStatus.ACTIVE: {RecallStatus.CLOSED, RecallStatus.CANCELED},
    RecallStatus.CLOSED: set(),
    RecallStatus.CANCELED: set(),
}
ACTION_TRANSITIONS: dict[str, set[str]] = {
    ActionStatus.PLANNED: {ActionStatus.IN_PROGRESS, ActionStatus.COMPLETED, ActionStatus.CANCELED},
    ActionStatus.IN_PROGRESS: {ActionStatus.COMPLETED, ActionStatus.CANCELED},
    ActionStatus.COMPLETED: set(),
    ActionStatus.CANCELED: set(),
}
OPEN_ACTION = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)
FUTURE_TOLERANCE = timedelta(minutes=5)

# No parallel plans or merge joins either (as for traces): these statements start from 10^3-10^4
# known ids, and on small data the planner turned such lookups into parallel scans of whole tables.
SQL_SETTINGS = {"jit": "off", "work_mem": "64MB", "max_parallel_workers_per_gather": "0", "enable_mergejoin": "off"}
_TUNED = "lotline.recalls.tuned"  # session.info key: the settings are already in force

P = ParamSpec("P")
R = TypeVar("R")


def tuned(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn(session, ...)`` with ``SQL_SETTINGS`` in force (once, also when nested)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session = cast(Session, args[0])
        if session.info.get(_TUNED):
            return fn(*args, **kwargs)
        session.info[_TUNED] = True
        try:
            with local_settings(session, **SQL_SETTINGS):
                return fn(*args, **kwargs)
        finally:
            session.info.pop(_TUNED, None)

    return wrapper


def run_sql(session: Session, name: str, params: dict[str, Any]) -> int:
    """Run ``recalls/sql/<name>.sql`` for its effect (the one runner); the rows it touched."""
    return sql.execute(session, sql.load_sql("lotline.recalls", name), params)


def sql_rows(session: Session, name: str, params: dict[str, Any]) -> list[tuple]:
    """The rows of ``recalls/sql/<name>.sql`` as plain tuples."""
    return sql.rows(session, sql.load_sql("lotline.recalls", name), params, kind="tuple")


def sql_dicts(session: Session, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``recalls/sql/<name>.sql`` as plain dicts (~10^5 rows per export)."""
    return sql.rows(session, sql.load_sql("lotline.recalls", name), params, kind="dict")


def not_future(value: datetime, what: str) -> datetime:
    """``value`` unless it lies more than FUTURE_TOLERANCE ahead (InvalidInput naming ``what``)."""
    if value > utcnow() + FUTURE_TOLERANCE:
        raise InvalidInput(f"{what} {value.isoformat()} is in the future")
    return value


def require_status(case: RecallCase, allowed: Sequence[str], doing: str) -> None:
    """InvalidStateTransition unless the case is in one of ``allowed``."""
    if case.status not in allowed:
        raise InvalidStateTransition(
            f"recall {case.recall_number} is {case.status}; only {' or '.join(allowed)} cases can {doing}",
            recall_number=case.recall_number,
            status=case.status,
        )


def check_window(case: RecallCase, occurred_at: datetime) -> None:
    """InvalidInput unless ``occurred_at`` is inside [initiated_at, closed_at or now]."""
    if case.initiated_at is None:  # a draft: nothing can have happened in it yet
        raise InvalidInput(f"recall {case.recall_number} has not been initiated")
    end = case.closed_at or utcnow() + FUTURE_TOLERANCE
    if occurred_at < case.initiated_at or occurred_at > end:
        upper = case.closed_at.isoformat() if case.closed_at else "now"
        raise InvalidInput(
            f"occurred_at {occurred_at.isoformat()} is outside recall {case.recall_number}'s window "
            f"[{case.initiated_at.isoformat()}, {upper}]"
        )


def append_note(obj, text: str | None) -> None:
    """Append a line to ``obj.notes`` (a case or an action)."""
    if text:
        obj.notes = f"{obj.notes}\n{text}" if obj.notes else text
