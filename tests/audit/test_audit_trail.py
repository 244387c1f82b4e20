"""The audit trail is written by the database: every change with its old and new values, who and why."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.catalog import service as catalog
from lotline.catalog.schemas import LocationIn


def _entries(session, table: str, record_id=None) -> list[dict]:
    # this test's entries only (concurrency tests elsewhere commit theirs for good: append-only)
    query = (
        "SELECT * FROM audit_log WHERE table_name = :t AND txid = pg_current_xact_id()::text::bigint"
        + (" AND record_id = :r" if record_id else "")
        + " ORDER BY id"
    )
    return [dict(r) for r in session.execute(sa.text(query), {"t": table, "r": str(record_id)}).mappings()]


def test_an_insert_through_the_boundary_records_the_new_row_and_the_actor(session):
    with db.transaction(actor="user:alice") as tx:
        loc = catalog.create_location(tx, LocationIn(code="WH", name="Dry store", kind="storage"))
    [entry] = _entries(session, "locations", loc.id)
    assert entry["operation"] == "INSERT" and entry["old_values"] is None
    assert entry["new_values"]["code"] == "WH" and entry["new_values"]["name"] == "Dry store"
    assert (entry["actor"], entry["actor_kind"]) == ("alice", "user")
    assert entry["db_role"] == session.execute(sa.text("SELECT current_user")).scalar()


def test_a_raw_sql_update_is_audited_with_the_database_role_and_both_values(session):
    session.execute(sa.text("INSERT INTO locations (id, code, name, kind) VALUES (gen_random_uuid(), 'QA', 'Cage', 'quarantine')"))
    session.execute(sa.text("SELECT set_config('lotline.actor', '', true)"))
    session.execute(sa.text("UPDATE locations SET name = 'Quarantine cage' WHERE code = 'QA'"))
    [insert, update] = _entries(session, "locations")
    role = session.execute(sa.text("SELECT current_user")).scalar()
    assert (update["operation"], update["actor"], update["actor_kind"]) == ("UPDATE", role, "db_role")
    assert update["old_values"]["name"] == "Cage" and update["new_values"]["name"] == "Quarantine cage"
    assert update["record_id"] == insert["record_id"]


def test_an_update_that_changes_nothing_writes_nothing(session):
    session.execute(sa.text("INSERT INTO locations (id, code, name, kind) VALUES (gen_random_uuid(), 'X', 'X', 'storage')"))
    session.execute(sa.text("UPDATE locations SET name = name WHERE code = 'X'"))
    assert [e["operation"] for e in _entries(session, "locations")] == ["INSERT"]


def test_a_delete_records_the_old_row(session):
    session.execute(sa.text("INSERT INTO locations (id, code, name, kind) VALUES (gen_random_uuid(), 'GONE', 'Gone', 'storage')"))
    session.execute(sa.text("DELETE FROM locations WHERE code = 'GONE'"))
    delete = _entries(session, "locations")[-1]
    assert delete["operation"] == "DELETE" and delete["new_values"] is None and delete["old_values"]["code"] == "GONE"


def test_the_reason_of_the_transaction_is_recorded(session):
    session.execute(sa.text("SELECT set_config('lotline.reason', 'typo in the name', true)"))
    session.execute(sa.text("INSERT INTO locations (id, code, name, kind) VALUES (gen_random_uuid(), 'R', 'R', 'storage')"))
    assert _entries(session, "locations")[-1]["reason"] == "typo in the name"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log", "TRUNCATE audit_log CASCADE"],
)
def test_the_audit_table_refuses_update_delete_and_truncate(session, statement):
    session.execute(sa.text("INSERT INTO locations (id, code, name, kind) VALUES (gen_random_uuid(), 'A', 'A', 'storage')"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.text(statement))
    assert len(_entries(session, "locations")) == 1


def test_secrets_never_enter_the_audit_trail(session, make_user, token_for):
    user = make_user("sec", "viewer")
    secret = token_for(user)
    dump = session.execute(sa.text("SELECT string_agg(a::text, '|') FROM audit_log a")).scalar()
    assert "password_hash" not in dump and "token_hash" not in dump and secret not in dump
    assert "$argon2id$" not in dump
