"""Test database: real PostgreSQL only, schema built by running the migrations.

- ``LOTLINE_TEST_DATABASE_URL`` (any PostgreSQL >= 15, e.g. postgresql://postgres@127.0.0.1:5432/postgres)
  selects a server; otherwise the embedded server, with its data in ``.lotline-test/`` of the repo.
  Either way a fresh database ``lotline_test_<pid>`` is created, migrated and dropped afterwards.
- Each test runs inside an outer transaction that is rolled back; the real ``db.transaction()``
  boundary joins it through savepoints, so commits and rollbacks in the code under test are real
  but never leak between tests.
- ``committed_engine`` is for concurrency tests: real commits on several connections, tables
  truncated afterwards (all but the append-only audit_log and signatures, which refuse TRUNCATE,
  and the users they name).
- Every API request needs a credential: ``client`` carries the token of a user holding every role
  (the existing suite is about behaviour, not access); ``client_as("viewer")`` (or several roles)
  gives a client of its own user, and ``make_user`` a user with a password. Passwords are hashed
  with cheap Argon2id parameters in tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from lotline import db
from lotline.api.app import API_PREFIX, create_app
from lotline.auth import passwords
from lotline.auth import service as auth_service
from lotline.auth.schemas import TokenIn, UserIn
from lotline.cli import main as cli_main
from lotline.db import engine as engine_mod
from lotline.db import migrations
from tests.builders import SIGNER_PASSWORD, sign

REPO = Path(__file__).resolve().parents[1]
TEST_PASSWORD = SIGNER_PASSWORD  # one test password for every user

passwords.use_test_cost()


def _server_url() -> str:
    url = os.environ.get("LOTLINE_TEST_DATABASE_URL")
    if url:
        return engine_mod.normalize_url(url)
    os.environ["LOTLINE_DATA_DIR"] = str(REPO / ".lotline-test")
    return engine_mod.embedded_url("postgres")


@pytest.fixture(scope="session")
def database_url():
    server = _server_url()
    name = f"lotline_test_{os.getpid()}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    yield url
    engine_mod.reset_engine(None)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    eng = engine_mod.create_engine(database_url)
    migrations.upgrade(eng)
    # CLI and API code paths call db.get_engine(); point it at the test database.
    os.environ["LOTLINE_DATABASE_URL"] = database_url
    engine_mod.reset_engine(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine):
    conn = engine.connect()
    outer = conn.begin()
    factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    db.configure_sessions(factory, snapshots=False)
    yield conn
    db.configure_sessions(None)
    outer.rollback()
    conn.close()


@pytest.fixture
def session(connection) -> Session:
    """A session inside the test's outer transaction, for builders and assertions."""
    s = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield s
    s.close()


def _truncate_all(eng) -> None:
    with eng.begin() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename NOT IN ('alembic_version', 'audit_log', 'signatures', 'users', 'user_roles',"
                " 'api_tokens', 'web_sessions')"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            conn.exec_driver_sql(f"TRUNCATE {names} CASCADE")


@pytest.fixture
def committed_engine(engine):
    """Real commits on the test database (for concurrency tests); emptied afterwards."""
    db.configure_sessions(None)
    _truncate_all(engine)
    yield engine
    _truncate_all(engine)


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(connection, capsys, monkeypatch):
    """Run `lotline ARGS...` in-process inside the test transaction; returns code, stdout, stderr."""
    monkeypatch.setenv("COLUMNS", "200")

    monkeypatch.delenv("LOTLINE_USER", raising=False)

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            cli_main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            db.set_actor(None)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def make_user(session):
    """``make_user("alice", "quality")``: an active user with those roles and ``TEST_PASSWORD``."""

    def make(name: str, *roles: str, password: str | None = TEST_PASSWORD, full_name: str | None = None):
        user = auth_service.add_user(
            session,
            UserIn(name=name, full_name=full_name or name.title(), roles=list(roles) or ["viewer"], password=password),
        )
        session.flush()
        return user

    return make


SIGNED = {"signature": {"password": TEST_PASSWORD, "meaning": "approved"}}


@pytest.fixture
def token_for(session):
    """``token_for(user)``: a fresh API token secret of that user."""

    def make(user) -> str:
        return auth_service.create_token(session, TokenIn(user=user.name, name="tests")).secret

    return make


def _client(token: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(
        create_app(), base_url=f"http://testserver{API_PREFIX}", raise_server_exceptions=bool(os.environ.get("DEBUG_RAISE")), headers=headers
    )


@pytest.fixture
def anonymous_client(connection):
    """The HTTP API without a credential."""
    with _client(None) as c:
        yield c


@pytest.fixture
def client_as(connection, make_user, token_for):
    """``client_as("viewer")`` / ``client_as("quality", "operator", name="qa")``: a client with a
    bearer token of a new user holding those roles; ``.user`` is the user."""
    opened = []

    def make(*roles: str, name: str | None = None) -> TestClient:
        user = make_user(name or "-".join(roles) or "nobody", *roles)
        c = _client(token_for(user)).__enter__()
        c.user = user
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def signed_cli(cli, session, monkeypatch):
    """``signed_cli(*args)``: ``lotline --as signer ARGS --sign approved --password-stdin``."""
    import io

    sign(session)

    def run(*args: str):
        monkeypatch.setattr("sys.stdin", io.StringIO(TEST_PASSWORD + "\n"))
        return cli("--as", "signer", *args, "--sign", "approved", "--password-stdin")

    return run


@pytest.fixture
def client(connection, make_user, token_for):
    """The HTTP API in-process; requests run inside the test's outer transaction.

    Its base URL is the API prefix, so tests name routes as ``/lots``, not ``/api/v1/lots``. It
    carries the bearer token of ``tester``, a user holding every role (``client.user``).
    """
    user = make_user("tester", "viewer", "operator", "quality", "analyst", "admin", full_name="Test User")
    with _client(token_for(user)) as c:
        c.user = user
        yield c


# Packages whose tests build worlds through the posting services: every such world must pass the
# generator's invariant checker, as generated data does (a test that builds a deliberately broken
# world through raw SQL says so with @pytest.mark.raw_world("why")).
_SERVICE_WORLDS = {"inventory", "lots", "production", "sales", "recalls", "trace", "kpis"}


@pytest.fixture(autouse=True)
def _service_world_keeps_every_invariant(request):
    package = Path(str(request.node.fspath)).parent.name
    if package not in _SERVICE_WORLDS or "connection" not in request.fixturenames \
            or request.node.get_closest_marker("raw_world"):
        yield
        return
    # Set up before this fixture's body, so torn down after the check below (the `session`
    # fixture's close would roll back its savepoint, and with it the world the test built).
    connection = request.getfixturevalue("connection")
    if "session" in request.fixturenames:
        request.getfixturevalue("session").flush()
    yield
    if "session" in request.fixturenames:
        request.getfixturevalue("session").flush()
    from lotline.generate import checker  # noqa: PLC0415 — only the service-world tests need it

    raw = connection.connection.driver_connection
    failed = [f"{r.name}: {r.violations} (e.g. {r.sample})" for r in checker.run_checks_on(raw) if not r.ok]
    assert not failed, "the world this test built breaks ledger invariants:\n" + "\n".join(failed)
