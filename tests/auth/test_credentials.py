"""Bearer tokens and the 401s: missing, malformed, unknown, expired, revoked, disabled user."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lotline.auth import service
from lotline.auth.schemas import TokenIn
from lotline.types import utcnow


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status
    return body


def test_an_anonymous_request_gets_401_naming_how_to_authenticate(anonymous_client):
    response = anonymous_client.get("/lots")
    body = _problem(response, 401, "unauthenticated")
    assert "Bearer" in body["detail"] and response.headers["www-authenticate"].startswith("Bearer")


def test_health_sign_in_and_the_openapi_document_need_no_credential(anonymous_client):
    assert anonymous_client.get("/health").status_code == 200
    assert anonymous_client.get("/openapi.json").status_code == 200
    # a wrong sign-in is a 401 for the credential, not for the missing token
    response = anonymous_client.post("/auth/sign-in", json={"name": "nobody", "password": "x" * 12})
    assert _problem(response, 401, "unauthenticated")["detail"].startswith("sign-in refused")


def test_a_malformed_or_unknown_token_is_401(anonymous_client):
    response = anonymous_client.get("/lots", headers={"Authorization": "Basic abc"})
    assert "Bearer" in _problem(response, 401, "unauthenticated")["detail"]
    response = anonymous_client.get("/lots", headers={"Authorization": "Bearer llt_notarealtoken"})
    assert "unknown API token" in _problem(response, 401, "unauthenticated")["detail"]


def test_a_revoked_token_stops_working_at_once(client, make_user, token_for, anonymous_client):
    user = make_user("erp", "operator")
    secret = token_for(user)
    headers = {"Authorization": f"Bearer {secret}"}
    assert anonymous_client.get("/lots", headers=headers).status_code == 200
    revoked = client.post(f"/tokens/{secret[:12]}/revoke")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    body = _problem(anonymous_client.get("/lots", headers=headers), 401, "unauthenticated")
    assert "revoked" in body["detail"] and secret[:12] in body["detail"]


def test_an_expired_token_is_401(session, make_user, anonymous_client):
    user = make_user("shortlived", "viewer")
    new = service.create_token(session, TokenIn(user=user.name, name="t", expires_at=utcnow() + timedelta(hours=1)))
    session.execute(sa.text("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = :id"), {"id": new.token.id})
    body = _problem(anonymous_client.get("/lots", headers={"Authorization": f"Bearer {new.secret}"}), 401, "unauthenticated")
    assert "expired" in body["detail"]


def test_a_disabled_users_token_is_401(client, make_user, token_for, anonymous_client):
    user = make_user("leaver", "operator")
    secret = token_for(user)
    assert client.post("/users/leaver/disable").json()["active"] is False
    body = _problem(anonymous_client.get("/lots", headers={"Authorization": f"Bearer {secret}"}), 401, "unauthenticated")
    assert "disabled" in body["detail"]


def test_tokens_are_stored_only_as_a_hash_and_shown_once(client, session):
    created = client.post("/tokens", json={"user": "tester", "name": "integration"})
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("llt_") and len(secret) >= 4 + 43  # 256 random bits, base64url
    dump = session.execute(sa.text("SELECT string_agg(t::text, '|') FROM api_tokens t")).scalar()
    audit = session.execute(sa.text("SELECT string_agg(a::text, '|') FROM audit_log a")).scalar()
    assert secret not in dump and secret not in audit
    assert "token_hash" not in audit
    listed = client.get("/tokens").json()["items"]
    assert all("token" not in row for row in listed)
    assert secret[:12] in {row["prefix"] for row in listed}


def test_a_token_records_when_it_was_last_used(client, session):
    token_id = client.post("/tokens", json={"user": "tester", "name": "x"}).json()["id"]
    # the fixture's own token has been used by the request above
    used = session.execute(sa.text("SELECT count(*) FROM api_tokens WHERE last_used_at IS NOT NULL")).scalar()
    assert used >= 1
    assert session.execute(sa.text("SELECT last_used_at FROM api_tokens WHERE id = :id"), {"id": token_id}).scalar() is None


def test_a_new_token_for_an_unknown_user_or_with_a_past_expiry_is_refused(client):
    assert client.post("/tokens", json={"user": "ghost", "name": "x"}).status_code == 404
    response = client.post("/tokens", json={"user": "tester", "name": "x", "expires_at": "2001-01-01T00:00:00Z"})
    assert response.status_code == 422 and "not in the future" in response.json()["detail"]
