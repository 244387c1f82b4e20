"""A transaction opens on the checkout of its connection: BEGIN and the boundary's settings in one
round trip, which is also the check that the pooled connection is alive (db/engine.py) — a write
transaction's, and a read snapshot's (REPEATABLE READ, READ ONLY).

These run on real commits (``committed_engine``): sessions bound to a test's outer transaction never
check a connection out, so they never take this path.
"""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from lotline import db
from lotline.db import engine as engine_mod
from lotline.db import session as db_session

SETTINGS = "SELECT current_setting('lotline.actor'), current_setting('lotline.reason')"


@pytest.fixture
def begins(monkeypatch):
    """How many BEGINs psycopg sent itself, and how many openings went out on checkout."""
    counts = {"psycopg": 0, "checkout": 0}
    tx_start, open_transaction = psycopg.Connection._get_tx_start_command, engine_mod.open_transaction

    def counted_tx_start(self):
        counts["psycopg"] += 1
        return tx_start(self)

    def counted_open(conn, settings, begin="BEGIN"):
        counts["checkout"] += 1
        return open_transaction(conn, settings, begin)

    monkeypatch.setattr(psycopg.Connection, "_get_tx_start_command", counted_tx_start)
    monkeypatch.setattr(engine_mod, "open_transaction", counted_open)
    return counts


def _audited_actor(engine, code: str) -> tuple[str, str]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT actor, actor_kind FROM audit_log WHERE table_name = 'locations' AND new_values ->> 'code' = :c"),
            {"c": code},
        ).one()._tuple()


def test_a_write_opens_with_the_actor_on_checkout_and_psycopg_sends_no_begin_of_its_own(committed_engine, begins):
    with db.transaction(actor="user:alice") as s:
        actor, reason = s.execute(sa.text(SETTINGS)).one()
        s.execute(sa.text("INSERT INTO locations (id, code, name, kind) VALUES (gen_random_uuid(), 'OPEN1', 'o', 'storage')"))
    assert (actor, reason) == ("user:alice", "")
    assert begins == {"psycopg": 0, "checkout": 1}
    assert _audited_actor(committed_engine, "OPEN1") == ("alice", "user")


def test_the_request_timeouts_are_set_on_checkout_too(committed_engine, begins):
    token = db_session.current_timeouts.set(("1234ms", "567ms"))
    try:
        with db.transaction(actor="os:bob") as s:
            row = s.execute(sa.text("SELECT current_setting('lotline.actor'), current_setting('statement_timeout'),"
                                    " current_setting('lock_timeout')")).one()
    finally:
        db_session.current_timeouts.reset(token)
    assert tuple(row) == ("os:bob", "1234ms", "567ms")
    assert begins["checkout"] == 1
    with db.transaction() as s:  # transaction-local: the next transaction on the pool has the defaults
        assert s.execute(sa.text("SELECT current_setting('statement_timeout')")).scalar_one() == "0"


def test_a_read_snapshot_opens_on_checkout_as_one_repeatable_read_read_only_transaction(committed_engine, begins):
    shown = (
        "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'),"
        " current_setting('lotline.actor'), current_setting('plan_cache_mode')"
    )
    with db.read_snapshot(actor="user:dave") as s:
        row = tuple(s.execute(sa.text(shown)).one())
        first = s.execute(sa.text("SELECT now()")).scalar_one()
        assert s.execute(sa.text("SELECT now()")).scalar_one() == first  # one transaction throughout
    assert row == ("repeatable read", "on", "user:dave", "force_custom_plan")
    assert begins == {"psycopg": 0, "checkout": 1}
    with db.transaction() as s:  # transaction-local: the next transaction on the pool has the defaults
        assert s.execute(sa.text(shown)).one()[1:] == ("off", "", "auto")


def test_an_actor_with_quotes_is_sent_as_a_literal(committed_engine):
    name = "user:o'brien; SELECT 1 --"
    with db.transaction(actor=name) as s:
        assert s.execute(sa.text("SELECT current_setting('lotline.actor')")).scalar_one() == name


def test_a_transaction_begun_again_in_the_same_session_gets_the_settings_again(committed_engine, begins):
    with db.transaction(actor="user:carol") as s:
        first = s.execute(sa.text(SETTINGS)).one()
        s.rollback()  # the session begins anew, maybe on the very same pooled connection
        second = s.execute(sa.text(SETTINGS)).one()
    assert tuple(first) == tuple(second) == ("user:carol", "")
    assert begins["checkout"] == 1  # the second one went the ordinary way: ping, BEGIN, settings


def _kill_pooled_connections(engine, database_url) -> list[int]:
    """Fill the pool with a few idle connections, then have the server close all of them."""
    held = [engine.connect() for _ in range(3)]
    pids = [c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() for c in held]
    for c in held:
        c.close()
    admin = sa.create_engine(engine_mod.normalize_url(database_url), poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            killed = conn.execute(sa.text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest(:p) AS pid"),
                                  {"p": pids}).scalar_one()
    finally:
        admin.dispose()
    assert killed == 3
    return pids


def test_pooled_connections_the_server_closed_are_replaced_before_a_write(committed_engine, database_url, begins):
    pids = _kill_pooled_connections(committed_engine, database_url)
    with db.transaction(actor="user:erin") as s:
        pid = s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        s.execute(sa.text("INSERT INTO locations (id, code, name, kind) VALUES (gen_random_uuid(), 'OPEN2', 'o', 'storage')"))
    assert pid not in pids
    assert _audited_actor(committed_engine, "OPEN2") == ("erin", "user")


def test_pooled_connections_the_server_closed_are_replaced_before_a_read_snapshot(committed_engine, database_url, begins):
    pids = _kill_pooled_connections(committed_engine, database_url)
    with db.read_snapshot(actor="user:frank") as s:
        pid, actor = s.execute(sa.text("SELECT pg_backend_pid(), current_setting('lotline.actor')")).one()
    assert pid not in pids
    assert actor == "user:frank"
