"""Statement-level capture (migration 0031) records exactly what the row triggers recorded.

One statement changing many rows writes one entry per changed row, in the order the statement
changed them, with each row's own old and new values; rows an UPDATE leaves as they were, and
credential updates that only touch their usage time, write nothing.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa


def _entries(session, table: str) -> list[dict]:
    return [
        dict(r)
        for r in session.execute(
            sa.text(
                "SELECT * FROM audit_log WHERE table_name = :t AND txid = pg_current_xact_id()::text::bigint ORDER BY id"
            ),
            {"t": table},
        ).mappings()
    ]


def _insert_three(session) -> None:
    session.execute(
        sa.text(
            "INSERT INTO locations (id, code, name, kind) SELECT gen_random_uuid(), c, 'Store ' || c, 'storage'"
            " FROM unnest(ARRAY['S1', 'S2', 'S3']) AS c"
        )
    )


def test_one_statement_inserting_three_rows_writes_three_entries_in_order(session):
    _insert_three(session)
    entries = _entries(session, "locations")
    assert [(e["operation"], e["new_values"]["code"]) for e in entries] == [
        ("INSERT", "S1"), ("INSERT", "S2"), ("INSERT", "S3")
    ]
    assert all(e["record_id"] == e["new_values"]["id"] for e in entries)


def test_a_multi_row_update_pairs_each_rows_old_and_new_values_and_skips_unchanged_rows(session):
    _insert_three(session)
    session.execute(
        sa.text("UPDATE locations SET name = CASE code WHEN 'S2' THEN name ELSE name || ' (moved)' END WHERE code LIKE 'S_'")
    )
    updates = [e for e in _entries(session, "locations") if e["operation"] == "UPDATE"]
    assert sorted(e["new_values"]["code"] for e in updates) == ["S1", "S3"]
    for e in updates:
        assert e["old_values"]["id"] == e["new_values"]["id"] == e["record_id"]
        assert e["new_values"]["name"] == e["old_values"]["name"] + " (moved)"


def test_a_multi_row_delete_records_every_old_row(session):
    _insert_three(session)
    session.execute(sa.text("DELETE FROM locations WHERE code IN ('S1', 'S3')"))
    deletes = [e for e in _entries(session, "locations") if e["operation"] == "DELETE"]
    assert sorted(e["old_values"]["code"] for e in deletes) == ["S1", "S3"]
    assert all(e["new_values"] is None for e in deletes)


def test_using_a_token_writes_nothing_but_revoking_it_is_recorded_without_its_hash(session, make_user, token_for):
    user = make_user("tok", "viewer")
    token_for(user)
    token_id = session.execute(sa.text("SELECT id FROM api_tokens WHERE user_id = :u"), {"u": user.id}).scalar_one()
    before = len(_entries(session, "api_tokens"))
    session.execute(sa.text("UPDATE api_tokens SET last_used_at = now() WHERE id = :i"), {"i": token_id})
    assert len(_entries(session, "api_tokens")) == before
    session.execute(
        sa.text("UPDATE api_tokens SET revoked_at = now(), last_used_at = now() + interval '1 s' WHERE id = :i"),
        {"i": token_id},
    )
    [revoked] = _entries(session, "api_tokens")[before:]
    assert revoked["operation"] == "UPDATE" and revoked["record_id"] == str(token_id)
    assert revoked["old_values"]["revoked_at"] is None and revoked["new_values"]["revoked_at"] is not None
    for values in (revoked["old_values"], revoked["new_values"]):
        assert "token_hash" not in values and "last_used_at" not in values


def test_the_actor_and_reason_of_the_transaction_are_on_every_entry_of_a_statement(session):
    session.execute(sa.text("SELECT set_config('lotline.actor', 'user:carol', true)"))
    session.execute(sa.text("SELECT set_config('lotline.reason', 'new stores', true)"))
    _insert_three(session)
    entries = _entries(session, "locations")
    assert {(e["actor"], e["actor_kind"], e["reason"]) for e in entries} == {("carol", "user", "new stores")}


def _plans_of(session, statement: str) -> list[str]:
    """The plans auto_explain reports for every statement run by ``statement``, its triggers' included."""
    plans: list[str] = []
    raw = session.connection().connection.driver_connection
    handler = lambda diag: plans.append(diag.message_primary or "")  # noqa: E731
    raw.add_notice_handler(handler)
    try:
        session.execute(sa.text(statement))
    finally:
        raw.remove_notice_handler(handler)
    return plans


def test_an_update_of_many_rows_after_one_row_updates_pairs_its_rows_without_a_nested_loop(session):
    # PL/pgSQL caches the trigger's plan per connection: after a few one-row updates a plan made for
    # one row was reused for the big one — a nested loop re-encoding the whole old table per new row
    # (n² work; 2,000 rows took 8.5 s). Migration 0033 keeps nested loops out of the function.
    try:
        session.execute(sa.text("LOAD 'auto_explain'"))
    except sa.exc.DBAPIError:
        pytest.skip("this PostgreSQL has no auto_explain (the embedded server); the external pass runs it")
    session.execute(
        sa.text(
            "INSERT INTO locations (id, code, name, kind) SELECT gen_random_uuid(), 'B' || g, 'Bin ' || g, 'storage'"
            " FROM generate_series(1, 60) AS g"
        )
    )
    for _ in range(8):
        session.execute(sa.text("UPDATE locations SET name = name || '.' WHERE code = 'B1'"))
    for setting in ("log_min_duration = 0", "log_nested_statements = on", "log_level = notice"):
        session.execute(sa.text(f"SET LOCAL auto_explain.{setting}"))
    plans = _plans_of(session, "UPDATE locations SET name = name || '!' WHERE code LIKE 'B%'")
    audit_plans = [p for p in plans if "INSERT INTO audit_log" in p]
    assert len(audit_plans) == 1
    assert "Nested Loop" not in audit_plans[0]
    assert len(_entries(session, "locations")) == 60 + 8 + 60
