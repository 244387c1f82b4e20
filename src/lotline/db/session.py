"""The one transaction boundary.

``transaction()`` opens a session, commits when the block succeeds, rolls back on any exception and
translates database errors into domain errors. ``read_snapshot()`` does the same for multi-query
reads in one REPEATABLE READ, READ ONLY snapshot (trace, KPI, reports).

Tests swap the session factory with ``configure_sessions`` to bind sessions to an outer
transaction (savepoint mode) so the real boundary runs and is rolled back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from lotline.db import errors as db_errors
from lotline.db.engine import get_engine

_factory: sessionmaker | None = None
_snapshots = True  # False when sessions join an outer test transaction


def configure_sessions(factory: sessionmaker | None, *, snapshots: bool = True) -> None:
    global _factory, _snapshots
    _factory = factory
    _snapshots = snapshots


def _new_session() -> Session:
    if _factory is not None:
        return _factory()
    return Session(bind=get_engine(), expire_on_commit=False)


@contextmanager
def _boundary(readonly: bool, isolation: str | None = None) -> Iterator[Session]:
    session = _new_session()
    try:
        if (readonly or isolation) and _snapshots:
            session.connection(execution_options={"isolation_level": isolation or "REPEATABLE READ"})
        if readonly and _snapshots:
            session.execute(sa.text("SET TRANSACTION READ ONLY"))
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
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def transaction(isolation: str | None = None) -> contextmanager[Session]:
    """One use case = one transaction: commit on success, roll back and translate on failure.

    ``isolation="REPEATABLE READ"`` gives a multi-statement computation (a KPI run) one snapshot
    of the ledger while it writes its results.
    """
    return _boundary(readonly=False, isolation=isolation)


def read_snapshot() -> contextmanager[Session]:
    """A consistent read-only snapshot for multi-query reads."""
    return _boundary(readonly=True)


@contextmanager
def local_settings(session: Session, **settings: str) -> Iterator[None]:
    """Set server settings for the statements inside the block only, then put the old values back.

    Transaction-local (``set_config(..., true)``): nothing leaks into other transactions on the same
    pooled connection, even if the block raises (the rollback discards them).
    """
    old = {}
    for name, value in settings.items():
        old[name] = session.execute(sa.text("SELECT current_setting(:n)"), {"n": name}).scalar_one()
        session.execute(sa.text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    yield
    for name, value in old.items():
        session.execute(sa.text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
