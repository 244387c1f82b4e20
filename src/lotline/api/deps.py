"""Request-scoped database sessions: the transaction boundary of an HTTP request.

``scope="function"`` (FastAPI >= 0.121) runs the commit when the endpoint returns, before the
response is sent, so a failed commit is an error response, never a 200.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from lotline.db import read_snapshot, transaction


def _write_session() -> Iterator[Session]:
    with transaction() as session:
        yield session


def _snapshot_write_session() -> Iterator[Session]:
    with transaction(isolation="REPEATABLE READ") as session:
        yield session


def _read_session() -> Iterator[Session]:
    with read_snapshot() as session:
        yield session


WriteSession = Annotated[Session, Depends(_write_session, scope="function")]
# Multi-statement computations that write their results (KPI runs): one snapshot of the ledger.
SnapshotWriteSession = Annotated[Session, Depends(_snapshot_write_session, scope="function")]
ReadSession = Annotated[Session, Depends(_read_session, scope="function")]
