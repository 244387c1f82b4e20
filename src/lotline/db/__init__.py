"""Database access: engine, the one transaction boundary, error translation, the SQL runner.

Entry points (API dependency, CLI command, web route) open ``transaction()`` or ``read_snapshot()``;
services receive the session and never commit, roll back or close it. Hand-written SQL runs through
``lotline.db.sql`` (``from lotline.db import sql``; ``sql.rows(session, sql.load_sql(...), params)``).
"""

from lotline.db import sql
from lotline.db.engine import get_engine, reset_engine
from lotline.db.session import (
    LocalSettings,
    configure_sessions,
    local_settings,
    read_snapshot,
    set_actor,
    transaction,
)
from lotline.db.sql import load_sql

__all__ = [
    "get_engine",
    "reset_engine",
    "configure_sessions",
    "transaction",
    "read_snapshot",
    "load_sql",
    "LocalSettings",
    "local_settings",
    "sql",
    "set_actor",
]
