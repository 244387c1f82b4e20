"""Password sign-in, throttling, web sessions and CSRF."""

from __future__ import annotations

import sqlalchemy as sa

from lotline.auth import service
from tests.conftest import TEST_PASSWORD


def _sign_in(c, name, password=TEST_PASSWORD):
    return c.post("/auth/sign-in", json={"name": name, "password": password})


def _events(session, event: str) -> list[dict]:
    rows = session.execute(
        sa.text("SELECT new_values FROM audit_log WHERE operation = 'EVENT' AND new_values ->> 'event' = :e"
                " AND txid = pg_current_xact_id()::text::bigint ORDER BY id"),
        {"e": event},
    ).scalars()
    return list(rows)


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(make_user, anonymous_client, session):
    make_user("alice", "quality")
    unknown = _sign_in(anonymous_client, "nobody")
    wrong = _sign_in(anonymous_client, "alice", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    whys = [e["why"] for e in _events(session, "sign_in_failed")]
    assert whys == ["unknown_user", "wrong_password"]
    assert "not the password" not in session.execute(sa.text("SELECT string_agg(a::text, '|') FROM audit_log a")).scalar()


def test_signing_in_opens_a_session_that_reads_and_with_its_csrf_token_writes(make_user, anonymous_client):
    make_user("olga", "operator")
    response = _sign_in(anonymous_client, "olga")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "olga" and body["roles"] == ["operator"] and body["csrf_token"]
    cookie = response.cookies.get("lotline_session")
    assert cookie and "httponly" in response.headers["set-cookie"].lower()
    assert anonymous_client.get("/auth/me").json()["via"] == "session"
    item = {"sku": "S-1", "name": "s", "uom": "kg"}
    refused = anonymous_client.post("/items", json=item)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_rejected"
    forged = anonymous_client.post("/items", json=item, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    ok = anonymous_client.post("/items", json=item, headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 201, ok.text


def test_signing_out_ends_the_session(make_user, anonymous_client, session):
    make_user("sam", "viewer")
    csrf = _sign_in(anonymous_client, "sam").json()["csrf_token"]
    cookie = anonymous_client.cookies.get("lotline_session")
    assert anonymous_client.post("/auth/sign-out", headers={"X-CSRF-Token": csrf}).status_code == 204
    anonymous_client.cookies.set("lotline_session", cookie)
    response = anonymous_client.get("/lots")
    assert response.status_code == 401 and "signed out" in response.json()["detail"]
    assert session.execute(sa.text("SELECT string_agg(s::text, '|') FROM web_sessions s")).scalar().count(cookie) == 0


def test_five_failures_lock_the_account_for_fifteen_minutes_even_for_the_right_password(
    make_user, anonymous_client, session
):
    make_user("bob", "viewer")
    for _ in range(service.MAX_FAILURES):
        assert _sign_in(anonymous_client, "bob", "wrong password!").status_code == 401
    locked = _sign_in(anonymous_client, "bob")
    assert locked.status_code == 401
    assert locked.json() == _sign_in(anonymous_client, "nobody").json()
    until = session.execute(sa.text("SELECT locked_until - now() FROM users WHERE name = 'bob'")).scalar()
    assert 14 * 60 < until.total_seconds() <= 15 * 60
    assert [e["name"] for e in _events(session, "account_locked")] == ["bob"]
    assert _events(session, "sign_in_failed")[-2]["why"] == "locked"
    # an admin resetting the password unlocks the account
    service.set_password(session, "bob", "a brand new password")
    assert _sign_in(anonymous_client, "bob", "a brand new password").status_code == 200


def test_a_success_resets_the_failure_count(make_user, anonymous_client, session):
    make_user("carl", "viewer")
    for _ in range(service.MAX_FAILURES - 1):
        _sign_in(anonymous_client, "carl", "wrong password!")
    assert _sign_in(anonymous_client, "carl").status_code == 200
    assert session.execute(sa.text("SELECT failed_sign_ins FROM users WHERE name = 'carl'")).scalar() == 0


def test_a_disabled_user_cannot_sign_in(client, make_user, anonymous_client, session):
    make_user("dora", "viewer")
    client.post("/users/dora/disable")
    response = _sign_in(anonymous_client, "dora")
    assert response.status_code == 401
    assert _events(session, "sign_in_failed")[-1]["why"] == "disabled"


def test_passwords_are_stored_as_argon2id_and_must_be_long_enough(client, session):
    short = client.post("/users", json={"name": "eve", "full_name": "Eve", "roles": ["viewer"], "password": "short"})
    assert short.status_code == 422 and "at least 12" in short.json()["detail"]
    made = client.post("/users", json={"name": "eve", "full_name": "Eve", "roles": ["viewer"], "password": "long enough password"})
    assert made.status_code == 201 and "password" not in str(made.json()).replace("has_password", "")
    stored = session.execute(sa.text("SELECT password_hash FROM users WHERE name = 'eve'")).scalar()
    assert stored.startswith("$argon2id$") and "long enough password" not in stored


def test_the_last_active_admin_cannot_be_disabled_or_lose_the_role(client, make_user):
    response = client.post("/users/tester/disable")
    assert response.status_code == 409 and "last active admin" in response.json()["detail"]
    assert client.put("/users/tester/roles", json={"roles": ["viewer"]}).status_code == 409
    make_user("root2", "admin")
    assert client.put("/users/tester/roles", json={"roles": ["viewer", "operator", "quality", "analyst"]}).status_code == 200
