"""Recall completion through the CLI, the HTTP API and the public response page."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from lotline.recalls import consignees
from lotline.types import utcnow
from tests.builders import strategy_in
from tests.conftest import SIGNED
from tests.recalls.completion_support import active_recall, consignee


def _strategy_body(**kw) -> dict:
    return json.loads(strategy_in(**kw).model_dump_json())


def test_the_api_sets_a_strategy_activates_and_lists_consignees(client, world):
    number = client.post("/recalls", json={"severity": "high", "summary": "F-1"}).json()["recall_number"]
    client.post(f"/recalls/{number}/targets", json={"lot": "F-1"})
    refused = client.post(f"/recalls/{number}/activate")
    assert refused.status_code == 422 and "no strategy" in refused.json()["detail"]
    bad = client.put(f"/recalls/{number}/strategy", json={**_strategy_body(), "fda_class": "IV"})
    assert bad.status_code == 422 and "fda_class" in bad.json()["detail"]
    assert client.put(f"/recalls/{number}/strategy", json=_strategy_body()).status_code == 200
    assert client.get(f"/recalls/{number}/strategy").json()["check_share_pct"] == "10"
    assert client.post(f"/recalls/{number}/activate", json=SIGNED).json()["status"] == "active"
    client.post(f"/recalls/{number}/runs", json={})
    rows = client.get(f"/recalls/{number}/consignees").json()["items"]
    assert sorted(r["customer"] for r in rows) == ["ALPHA", "BETA", "DELTA"]
    beta = next(r for r in rows if r["customer"] == "BETA")
    made = client.post(f"/recalls/{number}/consignees/{beta['id']}/responses",
                       json={"channel": "phone", "holds_product": False, "responder": "Beta"})
    assert made.status_code == 201
    assert client.get(f"/recalls/{number}/consignee-figures").json()["responding"] == 1
    report = client.post(f"/recalls/{number}/status-reports")
    assert report.status_code == 201 and report.json()["seq"] == 1
    assert client.get(f"/recalls/{number}/status-reports/1").json()["figures"]["consignees"]["responding"] == 1
    html = client.get(f"/recalls/{number}/initial-report")
    assert html.status_code == 200 and "21 CFR 7.46" in html.text
    assert client.get(f"/recalls/{number}/initial-report", params={"format": "pdf"}).status_code == 422
    unknown = client.post(f"/recalls/{number}/consignees/00000000-0000-0000-0000-000000000000/responses",
                          json={"channel": "phone", "holds_product": False, "responder": "?"})
    assert unknown.status_code == 404


def test_the_public_page_shows_what_the_consignee_received_and_records_its_answer(session, world, client):
    case, _ = active_recall(session)
    alpha = consignees.find(session, case, consignee(session, case, "ALPHA")["id"])
    token = consignees.issue_link(session, case, alpha)
    page = client.get(f"http://testserver/respond/{token}")
    assert page.status_code == 200 and "Alpha" in page.text and "B-1" in page.text
    assert "Beta" not in page.text and "C-1" not in page.text  # nothing of other consignees
    missing = client.post(f"http://testserver/respond/{token}", data={"responder": "Alpha"})
    assert missing.status_code == 422 and "still hold the product" in missing.text
    bad = client.post(f"http://testserver/respond/{token}", data={"holds_product": "yes", "quantity_on_hand": "abc",
                                                                  "responder": "Alpha"})
    assert bad.status_code == 422 and "quantity_on_hand" in bad.text
    ok = client.post(f"http://testserver/respond/{token}", data={
        "holds_product": "yes", "quantity_on_hand": "4", "responder": "Alpha manager",
        "sub_accounts": "Corner Shop, shop@corner.example\n"})
    assert ok.status_code == 200 and "your response was recorded" in ok.text
    rows = {k["name"]: k for k in consignees.list_consignees(session, case)}
    assert rows["Alpha"]["quantity_on_hand"] == 4 and rows["Corner Shop"]["depth"] == 2
    assert "records a correction" in client.get(f"http://testserver/respond/{token}").text


def test_the_public_page_refuses_forged_and_escapes_what_it_shows(session, world, client):
    forged = client.get("http://testserver/respond/not-a-real-token")
    assert forged.status_code == 404 and "not valid" in forged.text
    case, _ = active_recall(session, product_description="<script>alert(1)</script> flour")
    alpha = consignees.find(session, case, consignee(session, case, "ALPHA")["id"])
    page = client.get(f"http://testserver/respond/{consignees.issue_link(session, case, alpha)}")
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text


def test_the_cli_runs_strategy_consignees_responses_checks_reports_and_inbound(cli, signed_cli, world, tmp_path):
    assert cli("recall", "create", "--number", "RC-C-1", "--lot", "F-1").code == 0
    refused = cli("recall", "activate", "RC-C-1")
    assert refused.code == 2 and "no strategy" in refused.err
    deadline = (utcnow() + timedelta(days=3)).isoformat()
    done = cli("recall", "strategy", "RC-C-1", "--class", "I", "--depth", "consumer", "--warning", "general",
               "--level", "A", "--reason", "Listeria", "--hazard", "Serious", "--product", "Flour T55",
               "--deadline", deadline, "--coordinator-email", "qa@bakery.example", "--json")
    assert done.code == 0, done.err
    assert done.json()["fda_class"] == "I"
    assert signed_cli("recall", "activate", "RC-C-1").code == 0
    assert cli("recall", "trace", "RC-C-1").code == 0
    listed = cli("recall", "consignees", "RC-C-1", "--json").json()
    delta = next(r for r in listed if r["customer"] == "DELTA")
    rec = cli("recall", "response", "record", "RC-C-1", delta["id"], "--channel", "phone", "--responder", "Delta",
              "--holds", "--on-hand", "2", "--forwarded", "--sub", "Kiosk:+33 1 00", "--json")
    assert rec.code == 0, rec.err
    assert rec.json()["new_consignees"][0]["depth"] == 2
    bad = cli("recall", "response", "record", "RC-C-1", delta["id"], "--channel", "fax", "--responder", "D",
              "--does-not-hold")
    assert bad.code == 2 and "channel" in bad.err and "Traceback" not in bad.err
    link = cli("recall", "link", "RC-C-1", delta["id"], "--json").json()["url"]
    assert re.search(r"/respond/[A-Za-z0-9_-]{43}$", link)
    drawn = cli("recall", "check", "draw", "RC-C-1", "--seed", "42", "--json").json()
    assert len(drawn) == 4  # level A: every consignee, the sub-account included
    assert cli("recall", "check", "draw", "RC-C-1").code == 5
    assert cli("recall", "status-report", "issue", "RC-C-1").code == 0
    assert cli("recall", "status-report", "list", "RC-C-1", "--json").json()[0]["seq"] == 1
    out = tmp_path / "initial.html"
    assert cli("recall", "initial-report", "RC-C-1", "--out", str(out), "--accounts-xlsx", str(tmp_path / "a.xlsx")).code == 0
    assert "Listeria" in out.read_text()
    inbound = cli("recall", "inbound", "--vendor", "MILL", "--vendor-lot", "MILL-77", "--summary", "Mill notice", "--json")
    assert inbound.code == 5 and "RC-C-1" in inbound.err  # the open case already targets F-1
    none = cli("recall", "inbound", "--vendor", "MILL", "--vendor-lot", "ZZZ", "--summary", "x")
    assert none.code == 4


def test_worker_once_runs_every_job_and_reports_each(cli, world, smtp):
    out = cli("worker", "--once", "--json")
    assert out.code == 0, out.err
    assert set(out.json()) == {"expire_lots", "recall_reminders", "recall_status_reports", "drill_reminder"}
    assert out.json()["drill_reminder"] == {"drill_reminder": "LOTLINE_QA_EMAIL not set"}


def test_the_drill_reminder_goes_out_once_when_no_drill_ran_this_year(cli, world, smtp, monkeypatch):
    monkeypatch.setenv("LOTLINE_QA_EMAIL", "qa@bakery.example")
    assert cli("worker", "--once", "--json").json()["drill_reminder"] == {"drill_reminder": "sent to qa@bakery.example"}
    assert [m["Subject"] for m in smtp.messages] == ["Mock recall drill due"]
    again = cli("worker", "--once", "--json").json()["drill_reminder"]["drill_reminder"]
    assert again.startswith("reminded on") and len(smtp.messages) == 1
