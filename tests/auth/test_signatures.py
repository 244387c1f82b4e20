"""Electronic signatures: the signer's own password again, a meaning, linked to the record and its
audit entry; a refused signature writes nothing but the audit of the attempt."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from lotline.audit import service as audit
from lotline.errors import InvalidInput, SignatureRefused
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.recalls import service as recalls
from lotline.recalls import strategy
from lotline.recalls.schemas import CaseIn, TargetIn, TransitionIn
from tests.builders import make_item, make_location, make_vendor, receive, sign, strategy_in
from tests.conftest import SIGNED, TEST_PASSWORD


@pytest.fixture
def lot(session):
    item = make_item(session, "FLOUR")
    wh = make_location(session, "WH")
    make_vendor(session, "MILL")
    return receive(session, item, wh, "F-1", 10)


def _draft(session):
    case = recalls.create_case(session, CaseIn(recall_number="RC-S-1", severity="high"))
    recalls.add_target(session, case.id, TargetIn(lot="F-1"))
    strategy.set_strategy(session, case, strategy_in())
    return case


def _signatures(session):
    return session.execute(sa.text("SELECT * FROM signatures ORDER BY signed_at")).mappings().all()


def test_activating_a_recall_records_the_signers_name_meaning_time_and_audit_entry(session, lot):
    case = _draft(session)
    recalls.activate(session, case.id, TransitionIn(signature=sign(session, "responsible")))
    [sig] = _signatures(session)
    assert (sig["signer_name"], sig["signer_full_name"], sig["meaning"], sig["action"]) == (
        "signer", "Sam Signer", "responsible", "recall.activate",
    )
    entry = session.execute(sa.text("SELECT * FROM audit_log WHERE id = :id"), {"id": sig["audit_id"]}).mappings().one()
    assert (entry["table_name"], entry["record_id"], entry["operation"]) == ("recall_cases", str(case.id), "UPDATE")
    assert entry["old_values"]["status"] == "draft" and entry["new_values"]["status"] == "active"
    [shown] = recalls.report_data(session, case.id)["signatures"]
    assert shown["full_name"] == "Sam Signer" and shown["valid"] is True


def test_a_signature_moved_to_another_record_no_longer_matches_its_manifest(session, lot):
    from lotline.auth import signatures

    case = _draft(session)
    recalls.activate(session, case.id, TransitionIn(signature=sign(session)))
    # the append-only trigger refuses an UPDATE; a copy with another record id is what a forger can do
    session.execute(
        sa.text(
            "INSERT INTO signatures (user_id, signer_name, signer_full_name, meaning, action, table_name, record_id,"
            " audit_id, signed_at, manifest) SELECT user_id, signer_name, signer_full_name, meaning, action,"
            " table_name, 'another-record', audit_id, signed_at, manifest FROM signatures"
        )
    )
    [copied] = signatures.signatures_of(session, "recall_cases", "another-record")
    assert copied["valid"] is False
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.text("UPDATE signatures SET meaning = 'reviewed'"))


def test_a_wrong_password_refuses_the_step_and_writes_only_the_failed_attempt(client, session, lot):
    number = client.post("/recalls", json={"recall_number": "RC-S-2"}).json()["recall_number"]
    client.post(f"/recalls/{number}/targets", json={"lot": "F-1"})
    client.put(f"/recalls/{number}/strategy", json=json.loads(strategy_in().model_dump_json()))
    r = client.post(f"/recalls/{number}/activate", json={"signature": {"password": "not my password", "meaning": "approved"}})
    assert r.status_code == 403 and r.json()["code"] == "signature_refused"
    assert client.get(f"/recalls/{number}").json()["status"] == "draft"
    assert _signatures(session) == []
    why = session.execute(
        sa.text(
            "SELECT new_values ->> 'why' FROM audit_log WHERE new_values ->> 'event' = 'signature_refused'"
            " AND txid = pg_current_xact_id()::text::bigint"
        )
    ).scalars().all()
    assert why == ["wrong_password"]


def test_someone_elses_password_does_not_sign(client, make_user, session, lot):
    make_user("other", "quality", password="the other persons password")
    number = client.post("/recalls", json={"recall_number": "RC-S-3"}).json()["recall_number"]
    client.post(f"/recalls/{number}/targets", json={"lot": "F-1"})
    client.put(f"/recalls/{number}/strategy", json=json.loads(strategy_in().model_dump_json()))
    r = client.post(
        f"/recalls/{number}/activate", json={"signature": {"password": "the other persons password", "meaning": "approved"}}
    )
    assert r.status_code == 403 and r.json()["code"] == "signature_refused"
    ok = client.post(f"/recalls/{number}/activate", json=SIGNED)
    assert ok.status_code == 200 and ok.json()["status"] == "active"
    assert [s["signer_name"] for s in _signatures(session)] == ["tester"]


def test_the_os_login_cannot_sign(session, lot):
    case = _draft(session)
    session.execute(sa.text("SELECT set_config('lotline.actor', 'os:root', true)"))
    sign(session)  # makes the signer user, then the actor is reset below
    session.execute(sa.text("SELECT set_config('lotline.actor', 'os:root', true)"))
    from lotline.auth.schemas import SignatureIn

    with pytest.raises(SignatureRefused, match="named lotline user"):
        recalls.activate(session, case.id, TransitionIn(signature=SignatureIn(password=TEST_PASSWORD, meaning="approved")))


def test_releasing_a_lot_needs_a_signature_and_blocking_it_a_reason(session, lot):
    with pytest.raises(InvalidInput, match="needs a reason"):
        lots_service.change_status(session, lot, LotStatusChange(status="blocked"))
    lots_service.change_status(session, lot, LotStatusChange(status="blocked", reason="supplier notice"))
    with pytest.raises(InvalidInput, match="releasing a lot|electronic signature"):
        lots_service.change_status(session, lot, LotStatusChange(status="active", reason="lab ok"))
    lots_service.change_status(session, lot, LotStatusChange(status="active", reason="lab ok", signature=sign(session)))
    [sig] = _signatures(session)
    assert (sig["action"], sig["table_name"], sig["record_id"]) == ("lot.release", "lots", str(lot.id))
    history = [(h["from_status"], h["to_status"], h["reason"], h["actor"]) for h in audit.lot_status_history(session, lot.id)]
    assert history[1:] == [("active", "blocked", "supplier notice", "postgres"), ("blocked", "active", "lab ok", "signer")]


def test_a_closed_recalls_report_shows_its_signatures(client, lot):
    number = client.post("/recalls", json={"recall_number": "RC-S-4"}).json()["recall_number"]
    client.post(f"/recalls/{number}/targets", json={"lot": "F-1"})
    client.put(f"/recalls/{number}/strategy", json=json.loads(strategy_in().model_dump_json()))
    client.post(f"/recalls/{number}/activate", json=SIGNED)
    unsigned = client.post(f"/recalls/{number}/close", json={"reason": "nothing shipped"})
    assert unsigned.status_code == 422
    closed = client.post(f"/recalls/{number}/close", json={"reason": "nothing shipped", **SIGNED})
    assert closed.status_code == 200, closed.text
    report = client.get(f"/recalls/{number}/report.json").json()
    assert [(s["action"], s["full_name"], s["meaning"]) for s in report["signatures"]] == [
        ("recall.activate", "Test User", "approved"),
        ("recall.close", "Test User", "approved"),
    ]
    html = client.get(f"/recalls/{number}/report.html").text
    assert "Signatures" in html and "Test User (tester)" in html and "recall.close" in html


def test_lot_history_shows_status_changes_with_who_and_why(cli, client, lot):
    client.post("/lots/F-1/status", json={"status": "quarantine", "reason": "lab sample"})
    changes = client.get("/lots/F-1/status-history").json()
    assert [(c["from_status"], c["to_status"], c["actor"], c["reason"]) for c in changes][1:] == [
        ("active", "quarantine", "tester", "lab sample")
    ]
    out = cli("lot", "history", "F-1").out
    assert "Status changes of lot F-1" in out and "lab sample" in out and "tester" in out
    assert cli("lot", "history", "F-1", "--statuses", "--json").json()[-1]["to_status"] == "quarantine"
