"""The request transaction commits before the response is sent: a failed commit is never a 2xx."""

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session


def test_a_commit_that_fails_turns_into_a_409_not_a_201(client, monkeypatch):
    def failing_commit(self):
        raise sa.exc.OperationalError("COMMIT", {}, psycopg.errors.SerializationFailure("could not serialize access"))

    monkeypatch.setattr(Session, "commit", failing_commit)
    r = client.post("/locations", json={"code": "X", "name": "X"})
    assert r.status_code == 409
    assert r.json()["code"] == "concurrency_conflict"
    assert "retry" in r.json()["detail"]
