"""Load and faults (issue 10): admission control, body size, lost connections, timeouts, a client
that goes away. Real PostgreSQL and a real ``uvicorn`` on 127.0.0.1 where a real socket matters;
every wait is bounded, nothing asserts a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

from lotline import db
from lotline.api.app import API_PREFIX, create_app
from lotline.auth import service as auth_service
from lotline.auth.schemas import TokenIn, UserIn
from lotline.db import engine as engine_mod
from lotline.db import session as db_session
from lotline.errors import TimedOut, Unavailable

BOUND = 20.0  # seconds: the longest any wait below may take before the test fails
STARTUP = 120.0  # seconds for `lotline serve --workers 2` to spawn and import (a loaded machine is slow)


@pytest.fixture
def committed_token(committed_engine):
    """``committed_token(roles)``: a committed user with ``roles`` and its token (the live server sees
    only committed rows); the users are deleted afterwards (committed_engine keeps the users table)."""
    names: list[str] = []

    def make(roles: list[str]) -> str:
        name = f"load-{uuid.uuid4().hex[:8]}"
        names.append(name)
        with db.transaction() as s:
            auth_service.add_user(s, UserIn(name=name, full_name="Load Tester", roles=roles))
            s.flush()
            return auth_service.create_token(s, TokenIn(user=name, name="load")).secret

    yield make
    with committed_engine.begin() as conn:
        ids = "(SELECT id FROM users WHERE name = ANY(:names))"
        for table in ("web_sessions", "api_tokens", "user_roles"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE user_id IN {ids}"), {"names": names})
        conn.execute(sa.text("DELETE FROM users WHERE name = ANY(:names)"), {"names": names})


@contextlib.contextmanager
def live_server():
    """The app under ``uvicorn`` in a thread of this process, on a free port of 127.0.0.1."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + BOUND
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{API_PREFIX}"
    finally:
        server.should_exit = True
        thread.join(BOUND)
        sock.close()


@contextlib.contextmanager
def held_location_code(engine, code: str):
    """An uncommitted insert of location ``code`` in a transaction of its own: a request creating
    the same code waits for it (the unique index) until this block ends."""
    conn = engine.connect()
    tx = conn.begin()
    conn.execute(sa.text("INSERT INTO locations (id, code, name, kind) VALUES (gen_random_uuid(), :c, :c, 'storage')"), {"c": code})
    try:
        yield conn
    finally:
        tx.rollback()
        conn.close()


def _lock_waiters(conn) -> list[int]:
    conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))  # else a transaction sees one snapshot
    return list(conn.execute(sa.text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        " AND pid <> pg_backend_pid()"
    )).scalars())


def _wait_for(predicate, what: str, bound: float = BOUND):
    deadline = time.monotonic() + bound
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def small_pool(committed_engine, database_url, monkeypatch):
    """The process engine replaced by one sized for LOTLINE_API_CONCURRENCY=4 (pool 4 + overflow 4)."""
    monkeypatch.setenv("LOTLINE_API_CONCURRENCY", "4")
    eng = engine_mod.create_engine(database_url)
    monkeypatch.setattr(engine_mod, "_engine", eng)
    yield eng
    eng.dispose()


def _problem(response) -> dict:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return response.json()


# --- admission -----------------------------------------------------------------------------------


def test_a_hundred_concurrent_requests_on_a_pool_of_eight_connections_get_no_5xx(small_pool, committed_token):
    token = committed_token(["viewer"])

    async def burst(base: str) -> list[int]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"},
                                     limits=limits, timeout=BOUND * 3) as client:
            responses = await asyncio.gather(*(client.get("/locations") for _ in range(100)))
        return [r.status_code for r in responses]

    with live_server() as base:
        statuses = asyncio.run(burst(base))
    assert statuses == [200] * 100


def test_a_full_admission_queue_answers_503_problem_json_with_retry_after_at_once(
    committed_engine, committed_token, monkeypatch
):
    monkeypatch.setenv("LOTLINE_API_CONCURRENCY", "1")
    monkeypatch.setenv("LOTLINE_API_QUEUE", "0")
    token = committed_token(["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    with live_server() as base, held_location_code(committed_engine, "BUSY") as holder:
        first: dict = {}
        slow = threading.Thread(target=lambda: first.update(r=httpx.post(
            base + "/locations", json={"code": "BUSY", "name": "Busy"}, headers=headers, timeout=BOUND * 2)))
        slow.start()
        _wait_for(lambda: _lock_waiters(holder), "the first request to wait for the held code")
        refused = httpx.get(base + "/locations", headers=headers, timeout=BOUND)
        health = httpx.get(base + "/health", timeout=BOUND)
        holder.rollback()  # the held insert goes; the first request may now create the code
        slow.join(BOUND * 2)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    body = _problem(refused)
    assert body["code"] == "unavailable" and "busy" in body["detail"]
    assert health.status_code == 200  # health checks are never queued
    assert first["r"].status_code == 201


# --- body size -----------------------------------------------------------------------------------


@pytest.fixture
def small_body_client(connection, make_user, token_for, monkeypatch):
    monkeypatch.setenv("LOTLINE_MAX_BODY_BYTES", "2000")
    monkeypatch.setenv("LOTLINE_MAX_CAPTURE_BYTES", "100000")
    user = make_user("bodylimit", "admin", "operator")
    with TestClient(create_app(), base_url=f"http://testserver{API_PREFIX}", raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {token_for(user)}"}) as c:
        yield c


def test_a_body_over_the_limit_by_content_length_is_refused_413_before_it_is_read(small_body_client):
    r = small_body_client.post("/locations", content=json.dumps({"code": "BIG", "name": "x" * 5000}),
                               headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    body = _problem(r)
    assert body["code"] == "body_too_large" and body["limit"] == 2000
    assert "BIG" not in small_body_client.get("/locations").text


def test_a_streamed_body_without_content_length_is_counted_and_refused_413(small_body_client):
    def chunks():
        yield b'{"code": "BIG", "name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    r = small_body_client.post("/locations", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert _problem(r)["code"] == "body_too_large"


def test_a_body_under_the_limit_is_served(small_body_client):
    r = small_body_client.post("/locations", json={"code": "SMALL", "name": "Small"})
    assert r.status_code == 201


def test_epcis_capture_has_its_own_larger_limit(small_body_client):
    document = json.dumps({"type": "EPCISDocument", "schemaVersion": "2.0", "padding": "x" * 5000,
                           "epcisBody": {"eventList": []}})
    r = small_body_client.post("/epcis/capture", content=document, headers={"Content-Type": "application/json"})
    assert r.status_code != 413
    too_big = small_body_client.post("/epcis/capture", content=b"x" * 100_001)
    assert too_big.status_code == 413


# --- lost connections and timeouts ---------------------------------------------------------------


def test_a_connection_terminated_by_the_server_is_unavailable_and_rolls_back_quietly(committed_engine):
    with pytest.raises(Unavailable) as caught, db.transaction() as s:
        s.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
    assert caught.value.details["sqlstate"] == "57P01"  # admin_shutdown
    with db.transaction() as s:  # the pool recovered: the next transaction has a fresh connection
        assert s.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_a_statement_past_its_timeout_is_timed_out(committed_engine):
    token = db_session.current_timeouts.set(("50ms", "0"))
    try:
        with pytest.raises(TimedOut) as caught, db.transaction() as s:
            s.execute(sa.text("SELECT pg_sleep(5)"))
    finally:
        db_session.current_timeouts.reset(token)
    assert caught.value.details["sqlstate"] == "57014"


def test_a_backend_terminated_mid_request_answers_503_and_the_pool_recovers(committed_engine, committed_token):
    token = committed_token(["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    with live_server() as base, held_location_code(committed_engine, "KILLED") as holder:
        result: dict = {}
        request = threading.Thread(target=lambda: result.update(r=httpx.post(
            base + "/locations", json={"code": "KILLED", "name": "Killed"}, headers=headers, timeout=BOUND * 2)))
        request.start()
        (pid,) = _wait_for(lambda: _lock_waiters(holder), "the request to wait for the held code")
        holder.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        request.join(BOUND * 2)
        # every idle connection of the pool killed too: pre-ping replaces them
        holder.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'idle' AND pid <> pg_backend_pid()"))
        after = httpx.get(base + "/locations", headers=headers, timeout=BOUND)
    assert result["r"].status_code == 503
    assert result["r"].headers["retry-after"] == "1"
    body = _problem(result["r"])
    assert body["code"] == "unavailable" and body["details"]["sqlstate"] == "57P01"
    assert after.status_code == 200


def test_an_api_statement_past_the_statement_timeout_answers_503_timed_out(client, engine, monkeypatch):
    monkeypatch.setenv("LOTLINE_STATEMENT_TIMEOUT", "300ms")
    monkeypatch.setenv("LOTLINE_LOCK_TIMEOUT", "0")
    with TestClient(create_app(), base_url=f"http://testserver{API_PREFIX}", raise_server_exceptions=False,
                    headers=dict(client.headers)) as c, held_location_code(engine, "SLOW"):
        r = c.post("/locations", json={"code": "SLOW", "name": "Slow"})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    body = _problem(r)
    assert body["code"] == "timed_out" and "statement timeout" in body["detail"]


def test_a_lock_wait_past_the_lock_timeout_is_a_retried_concurrency_conflict(client, engine, monkeypatch):
    monkeypatch.setenv("LOTLINE_STATEMENT_TIMEOUT", "0")
    monkeypatch.setenv("LOTLINE_LOCK_TIMEOUT", "50ms")
    with TestClient(create_app(), base_url=f"http://testserver{API_PREFIX}", raise_server_exceptions=False,
                    headers=dict(client.headers)) as c, held_location_code(engine, "LOCKED"):
        r = c.post("/locations", json={"code": "LOCKED", "name": "Locked"})
    assert r.status_code == 409
    assert _problem(r)["code"] == "concurrency_conflict"


# --- a client that goes away ---------------------------------------------------------------------


def test_a_client_that_disconnects_has_its_waiting_statement_cancelled_and_its_locks_released(
    committed_engine, committed_token, monkeypatch
):
    monkeypatch.setenv("LOTLINE_STATEMENT_TIMEOUT", "0")  # nothing but the cancel can end the wait
    monkeypatch.setenv("LOTLINE_LOCK_TIMEOUT", "0")
    token = committed_token(["admin"])
    body = json.dumps({"code": "GONE", "name": "Gone"}).encode()
    with live_server() as base, held_location_code(committed_engine, "GONE") as holder:
        host, port = base.split("//")[1].split("/")[0].split(":")
        with socket.create_connection((host, int(port)), timeout=BOUND) as sock:
            sock.sendall(
                f"POST {API_PREFIX}/locations HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
            )
            (pid,) = _wait_for(lambda: _lock_waiters(holder), "the request to wait for the held code")
        # the client is gone while the holder still holds: the request's backend stops waiting and
        # holds no lock any more (its transaction rolled back)
        _wait_for(lambda: pid not in _lock_waiters(holder), "the abandoned request's statement to be cancelled")
        held = holder.execute(sa.text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND locktype <> 'virtualxid'"
                                      ), {"pid": pid}).scalar_one()
        assert held == 0


# --- several worker processes --------------------------------------------------------------------


def test_serve_with_two_workers_answers_from_two_processes(committed_token, database_url):
    committed_token(["viewer"])  # `lotline serve` refuses a database without users
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lotline = Path(sys.executable).with_name("lotline")
    proc = subprocess.Popen([str(lotline), "serve", "--workers", "2", "--port", str(port), "--no-access-log"],
                            env={**os.environ, "LOTLINE_DATABASE_URL": database_url},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def healthy():
            try:
                return httpx.get(f"http://127.0.0.1:{port}{API_PREFIX}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                assert proc.poll() is None, "lotline serve exited"
                return False

        _wait_for(healthy, "lotline serve --workers 2 to answer", STARTUP)
        children = _wait_for(lambda: [p for p in Path("/proc").glob("[0-9]*/stat")
                                      if _parent_of(p) == proc.pid and "multiprocessing" in _cmdline(p)],
                             "two worker processes", STARTUP)
        assert len(children) >= 2
    finally:
        proc.terminate()
        proc.wait(BOUND)


def _parent_of(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _cmdline(stat: Path) -> str:
    try:
        return (stat.parent / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""
