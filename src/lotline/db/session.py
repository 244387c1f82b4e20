"""The one transaction boundary.

``transaction()`` opens a session, commits when the block succeeds, rolls back on any exception and
translates database errors into domain errors. ``read_snapshot()`` does the same for multi-query
reads in one REPEATABLE READ, READ ONLY snapshot (trace, KPI, reports).

Who acts is part of the transaction: the first statement of the boundary's transaction sets the transaction-local
``lotline.actor`` (``kind:name``, e.g. ``user:alice``, ``os:bob``; empty = the audit trigger falls
back to the database role) and clears ``lotline.reason``. For a write transaction at the default isolation
and for a read snapshot, that statement rides on the pool's check of the connection it checks out
(db/engine.py, ``Opening``): BEGIN (a snapshot's: REPEATABLE READ, READ ONLY) and the settings in
one round trip; otherwise (another isolation, sessions bound by a test) the boundary sends it when
the session begins. The actor is passed explicitly
(``transaction(actor=...)``) or taken from ``current_actor`` — a context variable an entrypoint sets
once so that flows opening their own transactions (sending notices) act as the same person.

An HTTP request also bounds its transactions: the entrypoint sets ``current_timeouts`` (statement
and lock timeout, ``config.api_limits``) and the same first statement sets them transaction-locally;
the CLI sets none. It also hands the boundary an ``OpenConnections`` registry, so that a request
whose client went away can have its running statement cancelled (``OpenConnections.cancel``).

A connection lost mid-transaction (``pg_terminate_backend``, a server restart) is invalidated by
SQLAlchemy and the pool starts afresh; the rollback after it never raises a second error, and the
loss comes out as ``Unavailable`` (db/errors.py). A pool that has no connection to give within its
timeout is ``Unavailable`` too.

An error carrying ``after_rollback`` (errors.py) gets it run in a fresh transaction after the
failed one is rolled back: the audit of a refused sign-in survives, the refused change does not.

Tests swap the session factory with ``configure_sessions`` to bind sessions to an outer
transaction (savepoint mode) so the real boundary runs and is rolled back afterwards.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from lotline import errors
from lotline.db import engine as db_engine
from lotline.db import errors as db_errors
from lotline.db import sql
from lotline.db.engine import get_engine

_factory: sessionmaker | None = None
_snapshots = True  # False when sessions join an outer test transaction

# "kind:name" of whoever acts in this context (set by the API dependency / CLI callback).
current_actor: ContextVar[str | None] = ContextVar("lotline_actor", default=None)

# (statement_timeout, lock_timeout) of the transactions opened in this context (an HTTP request's).
current_timeouts: ContextVar[tuple[str, str] | None] = ContextVar("lotline_timeouts", default=None)

_BEGIN = sa.text("SELECT set_config('lotline.actor', :actor, true), set_config('lotline.reason', '', true)")
_BEGIN_TIMED = sa.text(
    "SELECT set_config('lotline.actor', :actor, true), set_config('lotline.reason', '', true),"
    " set_config('statement_timeout', :statement_timeout, true), set_config('lock_timeout', :lock_timeout, true)"
)


class OpenConnections:
    """The driver connections of the transactions one request has open, to cancel their statements.

    The boundary adds a connection when its transaction begins and removes it before the connection
    goes back to the pool, under the same lock that ``cancel`` holds while it sends the cancel
    requests: a cancel never reaches a connection that another request has since checked out.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[Any] = set()
        self.cancelled = False

    def add(self, driver_connection: Any) -> None:
        with self._lock:
            self._open.add(driver_connection)

    def discard(self, driver_connection: Any) -> None:
        with self._lock:
            self._open.discard(driver_connection)

    def cancel(self) -> int:
        """Cancel what each open connection runs now (psycopg's cancel_safe: a cancel request sent
        on a connection of its own, as pg_cancel_backend does); how many were sent."""
        with self._lock:
            self.cancelled = True
            for conn in self._open:
                # best effort: the connection may be closing already
                with contextlib.suppress(Exception):
                    conn.cancel_safe(timeout=5.0)
            return len(self._open)


current_connections: ContextVar[OpenConnections | None] = ContextVar("lotline_open_connections", default=None)


def set_actor(actor: str | None) -> None:
    """Make ``actor`` ('user:alice', 'os:bob') the default of every transaction in this context."""
    current_actor.set(actor)


def configure_sessions(factory: sessionmaker | None, *, snapshots: bool = True) -> None:
    global _factory, _snapshots
    _factory = factory
    _snapshots = snapshots


def _new_session() -> Session:
    if _factory is not None:
        return _factory()
    return Session(bind=get_engine(), expire_on_commit=False)


def _after_rollback(exc: BaseException, actor: str | None) -> None:
    record = getattr(exc, "after_rollback", None)
    if record is None:
        return
    with _boundary(readonly=False, actor=actor) as session:
        record(session)


def _rollback(session: Session) -> None:
    """Roll back, quietly when the connection is gone (SQLAlchemy has invalidated it already)."""
    try:
        session.rollback()
    except sa.exc.DBAPIError:
        session.invalidate()


def _settings(actor: str | None, timeouts: tuple[str, str] | None) -> tuple[tuple[str, str], ...]:
    """The transaction-local settings of ``_BEGIN`` / ``_BEGIN_TIMED``, in the same order."""
    settings: tuple[tuple[str, str], ...] = (("lotline.actor", actor or ""), ("lotline.reason", ""))
    if timeouts is not None:
        settings += (("statement_timeout", timeouts[0]), ("lock_timeout", timeouts[1]))
    return settings


def _on_begin(actor: str | None, registry: OpenConnections | None, opening: db_engine.Opening | None):
    timeouts = current_timeouts.get()

    def begin(_session, transaction, conn) -> None:
        if transaction.nested:
            return  # a savepoint begins a nested transaction: the settings are the outer one's already
        driver = conn.connection.driver_connection
        if registry is not None:
            registry.add(driver)
            opened.append(driver)
        if opening is not None and opening.take(driver):
            return  # the checkout opened this transaction with the settings already
        if timeouts is None:
            conn.execute(_BEGIN, {"actor": actor or ""})
        else:
            conn.execute(
                _BEGIN_TIMED,
                {"actor": actor or "", "statement_timeout": timeouts[0], "lock_timeout": timeouts[1]},
            )

    opened: list[Any] = []
    return begin, opened


# A snapshot ends with COMMIT, so psycopg keeps the statements it prepared on the connection (after
# 5 runs of the same text) and they are not parsed again; they are still planned for each run's
# parameters (force_custom_plan), as unprepared ones are: PostgreSQL's own choice of generic plans
# made typical traces slower at p95 (bench/RESULTS.md, "Read snapshots ending with COMMIT"). A reader
# whose statements have one plan shape whatever their parameters asks for generic plans itself (the
# trace: lotline.trace.service.TRACE_PLANS).
_SNAPSHOT_SETTINGS = (("plan_cache_mode", "force_custom_plan"),)
_SNAPSHOT_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"


def _begin_snapshot(session: Session, opening: db_engine.Opening, registry: OpenConnections | None,
                    opened: list[Any]) -> None:  # fmt: skip
    """Open a read snapshot's transaction now, with its settings, in one round trip.

    Its BEGIN and settings go in one simple-query message (``db.engine.open_transaction``), sent by
    the pool's checkout of the connection in place of the liveness ping — as a write transaction's
    are — or here, when the checkout did not (an engine made without lotline's checkout listener). (Before: a ping, psycopg's BEGIN
    and a settings statement, three round trips on every read request.) The snapshot is one
    transaction: its block must not commit or roll back the session itself.
    """
    conn = session.connection()
    driver = conn.connection.driver_connection
    assert driver is not None  # a connection just checked out
    if registry is not None:
        registry.add(driver)
        opened.append(driver)
    if not opening.take(driver):
        try:
            db_engine.open_transaction(driver, opening.settings, opening.begin)
        except psycopg.Error as exc:
            raise sa.exc.DBAPIError.instance(opening.begin, None, exc, psycopg.Error) from exc


@contextmanager
def _boundary(readonly: bool, isolation: str | None = None, actor: str | None = None) -> Iterator[Session]:  # noqa: C901 — one try with one branch per kind of failure, each rolling back its own way
    session = _new_session()
    actor = actor if actor is not None else current_actor.get()
    registry = current_connections.get()
    snapshot = readonly and isolation is None and _snapshots
    # Set when the session first touches the database (a boundary that reads nothing costs nothing):
    # by the checkout of its connection when it may (a write at the default isolation, a session of
    # the pool), else by the session's begin; a read snapshot begins at once, below (its checkout
    # opens it: REPEATABLE READ, READ ONLY, and its own settings).
    opening: db_engine.Opening | None = None
    if snapshot:
        opening = db_engine.Opening(_settings(actor, current_timeouts.get()) + _SNAPSHOT_SETTINGS, _SNAPSHOT_BEGIN)
    elif not readonly and isolation is None and _factory is None:
        opening = db_engine.Opening(_settings(actor, current_timeouts.get()))
    if snapshot:
        opened: list[Any] = []
    else:
        begin, opened = _on_begin(actor, registry, opening)
        sa.event.listen(session, "after_begin", begin)
    # set, then put back by hand: an API dependency may end the boundary in another context, where
    # a ContextVar token cannot reset it (and a closed opening is never sent, wherever it lingers)
    previous = db_engine.opening.get()
    db_engine.opening.set(opening)
    try:
        if snapshot:
            assert opening is not None
            _begin_snapshot(session, opening, registry, opened)
        elif (readonly or isolation) and _snapshots:
            # READ ONLY through the driver: psycopg then opens the transaction with one
            # BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY, no SET TRANSACTION round trip
            options: dict[str, Any] = {"isolation_level": isolation or "REPEATABLE READ"}
            if readonly:
                options["postgresql_readonly"] = True
            session.connection(execution_options=options)
        yield session
        # a read too ends with COMMIT (READ ONLY: nothing to commit), not ROLLBACK: at a ROLLBACK
        # psycopg forgets every statement it prepared on the connection (see _SNAPSHOT_SETTINGS)
        session.commit()
    except sa.exc.DBAPIError as exc:
        if db_errors.connection_lost(exc):
            session.invalidate()  # the server closed it: a ROLLBACK could only fail again
        else:
            _rollback(session)
        translated = db_errors.translate(exc)
        if translated is None:
            raise
        raise translated from exc
    except sa.exc.TimeoutError as exc:  # the pool had no connection to give in time
        _rollback(session)
        raise errors.Unavailable(f"the server is busy: no database connection was free ({exc})") from exc
    except errors.LotlineError as exc:
        _rollback(session)
        _release(session, registry, opened)
        _after_rollback(exc, actor)
        raise
    except BaseException:
        _rollback(session)
        raise
    finally:
        if opening is not None:
            opening.close()
        if db_engine.opening.get() is opening:
            db_engine.opening.set(previous)
        _release(session, registry, opened)


def _release(session: Session, registry: OpenConnections | None, opened: list[Any]) -> None:
    if registry is not None:
        for driver in opened:
            registry.discard(driver)
        opened.clear()
    session.close()


def transaction(isolation: str | None = None, actor: str | None = None) -> AbstractContextManager[Session]:
    """One use case = one transaction: commit on success, roll back and translate on failure.

    ``isolation="REPEATABLE READ"`` gives a multi-statement computation (a KPI run) one snapshot
    of the ledger while it writes its results. ``actor`` overrides ``current_actor``.
    """
    return _boundary(readonly=False, isolation=isolation, actor=actor)


def read_snapshot(actor: str | None = None) -> AbstractContextManager[Session]:
    """A consistent read-only snapshot for multi-query reads."""
    return _boundary(readonly=True, actor=actor)


class LocalSettings:
    """The two statements of ``local_settings``, for a caller that sends them in its own pipelines
    (the trace: set with its first statements, put back with its last, no round trip of their own).

    ``set_statement()`` sets the values transaction-locally and returns the previous ones, a row per
    setting; ``restore_statement(rows)`` puts those back.
    """

    _SET = (
        # per row, current_setting is evaluated before set_config (target-list order)
        "SELECT current_setting(s.name), set_config(s.name, s.value, true)"
        "  FROM unnest(%(names)s::text[], %(values)s::text[]) WITH ORDINALITY AS s(name, value, n)"
        " ORDER BY s.n"
    )
    _RESTORE = "SELECT set_config(s.name, s.value, true) FROM unnest(%(names)s::text[], %(values)s::text[]) AS s(name, value)"

    def __init__(self, settings: dict[str, str]) -> None:
        self.names, self.values = list(settings), list(settings.values())

    def set_statement(self) -> tuple[str, dict[str, Any]]:
        return self._SET, {"names": self.names, "values": self.values}

    def restore_statement(self, set_rows: list[Any]) -> tuple[str, dict[str, Any]]:
        return self._RESTORE, {"names": self.names, "values": [row[0] for row in set_rows]}

    @staticmethod
    @contextmanager
    def restored_on_error(session: Session, restore: tuple[str, dict[str, Any]]) -> Iterator[None]:
        """Put the settings back if the block raises — unless the error came from the database: the
        transaction is then aborted and its end discards them anyway."""
        try:
            yield
        except sa.exc.DBAPIError:
            raise
        except BaseException:
            sql.execute(session, *restore)
            raise


@contextmanager
def local_settings(session: Session, **settings: str) -> Iterator[None]:
    """Server settings (planner, memory) for the statements inside the block only.

    One statement sets them all and reads the previous values, one puts those back when the block
    ends. Transaction-local (``set_config(..., true)``), so nothing leaks to other transactions on a
    pooled connection. If the block raises, the values are put back too — unless the error came
    from the database: the transaction is then aborted and its end discards them anyway.
    """
    statements = LocalSettings(settings)
    restore = statements.restore_statement(sql.rows(session, *statements.set_statement(), kind="tuple"))
    with LocalSettings.restored_on_error(session, restore):
        yield
    sql.execute(session, *restore)
