"""The one transaction boundary.

``transaction()`` opens a session, commits when the block succeeds, rolls back on any exception and
translates database errors into domain errors. ``read_snapshot()`` does the same for multi-query
reads in one REPEATABLE READ, READ ONLY snapshot (trace, KPI, reports).

Who acts is part of the transaction: the first statement of the boundary's transaction sets the transaction-local
``lotline.actor`` (``kind:name``, e.g. ``user:alice``, ``os:bob``; empty = the audit trigger falls
back to the database role) and clears ``lotline.reason``. The actor is passed explicitly
(``transaction(actor=...)``) or taken from ``current_actor`` — a context variable an entrypoint sets
once so that flows opening their own transactions (sending notices) act as the same person.

An error carrying ``after_rollback`` (errors.py) gets it run in a fresh transaction after the
failed one is rolled back: the audit of a refused sign-in survives, the refused change does not.

Tests swap the session factory with ``configure_sessions`` to bind sessions to an outer
transaction (savepoint mode) so the real boundary runs and is rolled back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from lotline import errors
from lotline.db import errors as db_errors
from lotline.db import sql
from lotline.db.engine import get_engine

_factory: sessionmaker | None = None
_snapshots = True  # False when sessions join an outer test transaction

# "kind:name" of whoever acts in this context (set by the API dependency / CLI callback).
current_actor: ContextVar[str | None] = ContextVar("lotline_actor", default=None)

_BEGIN = sa.text("SELECT set_config('lotline.actor', :actor, true), set_config('lotline.reason', '', true)")


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


@contextmanager
def _boundary(readonly: bool, isolation: str | None = None, actor: str | None = None) -> Iterator[Session]:
    session = _new_session()
    actor = actor if actor is not None else current_actor.get()
    # Set when the session first touches the database (a boundary that reads nothing costs nothing).
    # (a savepoint begins a nested transaction: the settings are the outer transaction's already)
    sa.event.listen(
        session,
        "after_begin",
        lambda _s, t, conn: None if t.nested else conn.execute(_BEGIN, {"actor": actor or ""}),
    )
    try:
        if (readonly or isolation) and _snapshots:
            session.connection(execution_options={"isolation_level": isolation or "REPEATABLE READ"})
        if readonly and _snapshots:
            sql.execute(session, "SET TRANSACTION READ ONLY")
        yield session
        if readonly:
            session.rollback()
        else:
            session.commit()
    except sa.exc.DBAPIError as exc:
        session.rollback()
        translated = db_errors.translate(exc)
        if translated is None:
            raise
        raise translated from exc
    except errors.LotlineError as exc:
        session.rollback()
        session.close()
        _after_rollback(exc, actor)
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
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


@contextmanager
def local_settings(session: Session, **settings: str) -> Iterator[None]:
    """Server settings (planner, memory) for the statements inside the block only.

    One statement sets them all and reads the previous values, one puts those back when the block
    ends. Transaction-local (``set_config(..., true)``), so nothing leaks to other transactions on a
    pooled connection. If the block raises, the values are put back too — unless the error came
    from the database: the transaction is then aborted and its end discards them anyway.
    """
    names, values = list(settings), list(settings.values())
    # per row, current_setting is evaluated before set_config (target-list order)
    previous = [
        row[0]
        for row in sql.rows(
            session,
            "SELECT current_setting(s.name), set_config(s.name, s.value, true)"
            "  FROM unnest(%(names)s::text[], %(values)s::text[]) WITH ORDINALITY AS s(name, value, n)"
            " ORDER BY s.n",
            {"names": names, "values": values},
            kind="tuple",
        )
    ]

    def restore() -> None:
        sql.execute(
            session,
            "SELECT set_config(s.name, s.value, true) FROM unnest(%(names)s::text[], %(values)s::text[]) AS s(name, value)",
            {"names": names, "values": previous},
        )

    try:
        yield
    except sa.exc.DBAPIError:
        raise
    except BaseException:
        restore()
        raise
    restore()
