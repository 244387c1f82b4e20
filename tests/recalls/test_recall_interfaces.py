"""The recall CLI (`lotline recall ...`, --json) and HTTP API over the hand-built world."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
import sqlalchemy as sa

from lotline.models import RecallCase
from lotline.recalls import service as recalls
from lotline.recalls.schemas import CaseIn, TargetIn, TransitionIn
from tests.builders import sign, strategy_in
from tests.conftest import SIGNED
from tests.recalls.completion_support import with_strategy


@pytest.fixture
def cli(cli, world):
    """The root `cli` fixture, over the hand-built world."""
    return cli


@pytest.fixture
def client(client, world):
    """The root `client` fixture, over the hand-built world."""
    return client


def _strategy_file(tmp_path):
    path = tmp_path / "strategy.json"
    path.write_text(strategy_in().model_dump_json())
    return str(path)


def test_a_recall_through_the_cli(cli, signed_cli, tmp_path):
    without = cli("recall", "create", "--number", "RC-T-0", "--lot", "F-1", "--activate")
    assert without.code == 2 and "no strategy" in without.err
    r = signed_cli(
        "recall", "create", "--number", "RC-T-1", "--severity", "high", "--lot", "F-1",
        "--strategy", _strategy_file(tmp_path), "--activate", "--json",
    )
    assert r.code == 0, r.err
    assert r.json()[0]["status"] == "active"
    run = cli("recall", "trace", "RC-T-1", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert sorted(x["lot_code"] for x in doc["impacted_lots"]) == ["B-1", "C-1", "F-1"]
    assert sorted(x["customer_code"] for x in doc["impacted_shipments"]) == ["ALPHA", "BETA", "DELTA"]
    assert cli("recall", "action", "plan-all", "RC-T-1", "--json").json() == {"planned": 4}
    actions = cli("recall", "action", "list", "RC-T-1", "--json").json()
    quarantine = next(a for a in actions if a["lot_code"] == "F-1")
    r = cli("recall", "action", "run", quarantine["id"], "--location", "QA", "--json")
    assert r.code == 0, r.err
    assert r.json()[0]["status"] == "completed" and r.json()[0]["inventory_movement_id"]
    r = cli("recall", "action", "run-all", "RC-T-1", "--channel", "phone")
    assert r.code == 0, r.err
    assert "3 actions completed" in r.out
    notices = cli("recall", "notice", "list", "RC-T-1", "--json").json()
    assert sorted((n["customer_code"], n["channel"]) for n in notices) == [
        ("ALPHA", "phone"),
        ("BETA", "phone"),
        ("DELTA", "phone"),
    ]
    r = cli(
        "recall", "notice", "record", notices[0]["id"], "--status", "sent", "--reference", "call 1", "--json"
    )
    assert r.code == 0, r.err
    assert r.json()[0]["status"] == "sent"
    out = tmp_path / "trace.csv"
    assert cli("recall", "export", "RC-T-1", "--format", "csv", "--out", str(out)).code == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert len(rows) == 8 and rows[1][0] == "Receiving"
    xlsx = tmp_path / "trace.xlsx"
    assert cli("recall", "export", "RC-T-1", "--out", str(xlsx)).code == 0
    assert openpyxl.load_workbook(xlsx).active.max_row == 8
    eff = cli("recall", "effectiveness", "RC-T-1", "--json").json()
    assert (eff["customers_impacted"], eff["customers_notified"]) == (3, 1)
    assert cli("recall", "close", "RC-T-1", "--reason", "done").code == 2  # unsigned
    r = signed_cli("recall", "close", "RC-T-1", "--reason", "done")
    assert r.code == 0, r.err
    html = tmp_path / "r.html"
    assert cli("recall", "report", "RC-T-1", "--out", str(html)).code == 0
    assert "RC-T-1" in html.read_text()
    report = cli("recall", "report", "RC-T-1", "--format", "json", "--out", "-")
    assert json.loads(report.out)["case"]["status"] == "closed"


def test_cli_errors_have_their_exit_codes(cli):
    assert cli("recall", "show", "NOPE").code == 4
    cli("recall", "create", "--number", "RC-T-2")
    r = cli("recall", "close", "RC-T-2")
    assert r.code == 5 and "cannot go from draft to closed" in r.err
    r = cli("recall", "create", "--severity", "apocalyptic")
    assert r.code == 2 and "severity" in r.err
    r = cli("recall", "export", "RC-T-2", "--format", "pdf")
    assert r.code == 2 and "csv or xlsx" in r.err
    r = cli("recall", "target-add", "RC-T-2", "--lot", "F-1")
    assert r.code == 0, r.err
    r = cli("recall", "target-add", "RC-T-2", "--lot", "F-1")
    assert r.code == 5 and "already targets lot F-1" in r.err


def test_mock_recall_drill_runs_end_to_end_and_moves_nothing(cli, tmp_path):
    r = cli("recall", "mock", "--lot", "F-1", "--out-dir", str(tmp_path), "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert [s["name"] for s in doc["steps"]] == [
        "open case, targets, initiate",
        "trace run (persisted)",
        "plan actions",
        "FSMA 204 export (CSV + XLSX)",
        "recall report (HTML + JSON)",
        "cancel",
    ]
    assert "3 lots, 3 shipments, 3 customers" in doc["steps"][1]["detail"]
    assert "4 actions planned" in doc["steps"][2]["detail"]
    assert len(doc["files"]) == 4 and all((tmp_path / f.split("/")[-1]).exists() for f in doc["files"])
    case = cli("recall", "show", doc["recall_number"], "--json").json()
    assert case["status"] == "canceled"
    assert (
        case["effectiveness"]["actions"]["canceled"] == 4
        and case["effectiveness"]["actions"]["completed"] == 0
    )
    stock = {(s["lot_code"], s["location"]): s["quantity"] for s in cli("stock", "--json").json()}
    assert stock[("F-1", "WH1")] == "35"  # nothing moved
    human = cli("recall", "mock", "--lot", "F-1")
    assert human.code == 0 and "ms  trace run (persisted)" in human.out and "total" in human.out


def test_a_recall_through_the_http_api(client):
    r = client.post("/recalls", json={"severity": "critical", "summary": "Listeria"})
    assert r.status_code == 201, r.text
    number = r.json()["recall_number"]
    assert client.post(f"/recalls/{number}/targets", json={"lot": "F-1"}).status_code == 201
    dup = client.post(f"/recalls/{number}/targets", json={"lot": "F-1"})
    assert dup.status_code == 409 and "already targets lot F-1" in dup.json()["detail"]
    assert client.post(f"/recalls/{number}/activate").status_code == 422  # no strategy yet
    client.put(f"/recalls/{number}/strategy", json=json.loads(strategy_in().model_dump_json()))
    unsigned = client.post(f"/recalls/{number}/activate")
    assert unsigned.status_code == 422 and "electronic signature" in unsigned.json()["detail"]
    assert client.post(f"/recalls/{number}/activate", json=SIGNED).json()["status"] == "active"
    run = client.post(f"/recalls/{number}/runs", json={"direction": "forward"})
    assert run.status_code == 201, run.text
    assert sorted(s["customer_code"] for s in run.json()["impacted_shipments"]) == ["ALPHA", "BETA", "DELTA"]
    assert client.get(f"/recalls/{number}/runs/latest").json()["id"] == run.json()["id"]
    assert client.post(f"/recalls/{number}/actions/plan-all").json() == {"planned": 4}
    block = client.post(f"/recalls/{number}/actions", json={"action_type": "block_lot", "lot": "F-2"})
    assert block.status_code == 201, block.text
    done = client.post(f"/recall-actions/{block.json()['id']}/run", json={})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    again = client.post(f"/recall-actions/{block.json()['id']}/run", json={})
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    drafted = client.post(f"/recalls/{number}/communications", json={"channel": "letter"})
    assert drafted.status_code == 201 and len(drafted.json()) == 3
    csv_r = client.get(f"/recalls/{number}/fsma204.csv")
    assert csv_r.status_code == 200 and csv_r.text.startswith("Event type,")
    assert client.get(f"/recalls/{number}/fsma204.xlsx").content[:2] == b"PK"
    assert client.get(f"/recalls/{number}/report.html").text.count(number) >= 2
    assert client.get(f"/recalls/{number}/report.json").json()["case"]["recall_number"] == number
    assert client.get(f"/recalls/{number}/effectiveness").json()["customers_impacted"] == 3
    assert client.get("/recalls/NOPE").status_code == 404
    bad = client.post(f"/recalls/{number}/actions", json={"action_type": "scrap_lot"})
    assert bad.status_code == 422
    closing = client.post(f"/recalls/{number}/close", json={"reason": "done", **SIGNED})
    assert closing.status_code == 409 and "open actions" in closing.json()["detail"]


def test_human_output_of_every_listing(cli, signed_cli, tmp_path):
    made = signed_cli("recall", "create", "--number", "RC-H-1", "--lot", "F-1", "--strategy", _strategy_file(tmp_path), "--activate")
    assert made.code == 0, made.err
    first = cli("recall", "trace", "RC-H-1", "--as-of", "2026-01-07T12:00:00+00:00")
    assert first.code == 0, first.err
    assert "impacted lots" in first.out and "B-1" in first.out and "C-1" not in first.out
    assert cli("recall", "trace", "RC-H-1").code == 0
    runs = cli("recall", "runs", "RC-H-1", "--json").json()
    assert [r["status"] for r in runs] == ["superseded", "computed"]
    diff = cli("recall", "diff", runs[0]["id"], runs[1]["id"])
    assert diff.code == 0 and "added" in diff.out and "C-1" in diff.out
    for args in (
        ("recall", "list"),
        ("recall", "show", "RC-H-1"),
        ("recall", "runs", "RC-H-1"),
        ("recall", "impacted", "RC-H-1"),
        ("recall", "effectiveness", "RC-H-1"),
        ("recall", "action", "plan-all", "RC-H-1"),
        ("recall", "action", "list", "RC-H-1"),
        ("recall", "notice", "draft", "RC-H-1", "--channel", "letter"),
        ("recall", "notice", "list", "RC-H-1"),
        ("recall", "update", "RC-H-1", "--severity", "critical"),
    ):
        r = cli(*args)
        assert r.code == 0, (args, r.err)
    notice = cli("recall", "notice", "list", "RC-H-1", "--json").json()[0]
    shown = cli("recall", "notice", "show", notice["id"])
    assert shown.code == 0 and "What to do" in shown.out
    assert cli("recall", "action", "run-all", "RC-H-1", "--json").json() == {"completed": 4}
    assert signed_cli("recall", "close", "RC-H-1", "--reason", "all recovered").code == 0
    assert cli("recall", "list", "--status", "closed", "--json").json()[0]["severity"] == "critical"


def test_email_notices_are_sent_through_the_http_api(client, smtp):
    number = client.post("/recalls", json={"recall_number": "RC-API-2"}).json()["recall_number"]
    client.post(f"/recalls/{number}/targets", json={"item": "BREAD"})
    client.put(f"/recalls/{number}/strategy", json=json.loads(strategy_in().model_dump_json()))
    client.post(f"/recalls/{number}/activate", json=SIGNED)
    client.post(f"/recalls/{number}/runs")
    drafted = client.post(f"/recalls/{number}/communications", json={"channel": "email"}).json()
    assert sorted(d["customer_code"] for d in drafted) == ["ALPHA", "GAMMA"]
    one = client.post(f"/recall-communications/{drafted[0]['id']}/send")
    assert one.status_code == 200 and one.json()["status"] == "sent"
    rest = client.post(f"/recalls/{number}/communications/send")
    assert [r["status"] for r in rest.json()] == ["sent"]
    again = client.post(f"/recall-communications/{drafted[0]['id']}/send")
    assert again.status_code == 409 and "not sent again" in again.json()["detail"]
    assert len(smtp.messages) == 2


def test_a_failing_drill_still_cancels_its_case(cli, monkeypatch):
    from lotline.reports import fsma204_export

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fsma204_export, "write_xlsx", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        cli("recall", "mock", "--lot", "F-1")
    cases = cli("recall", "list", "--json").json()
    assert [(c["status"], c["notes"].splitlines()[-1]) for c in cases] == [
        ("canceled", "mock recall drill failed")
    ]


def _legacy_number(session, number: str) -> None:
    """A traced, active case whose stored number is ``number`` (as older versions accepted it)."""
    case = recalls.create_case(session, CaseIn(recall_number="RC-LEGACY-1"))
    recalls.add_target(session, case.id, TargetIn(lot="F-1"))
    with_strategy(session, case)
    recalls.activate(session, case.id, TransitionIn(signature=sign(session)))
    recalls.compute_run(session, case.id)
    session.execute(sa.update(RecallCase).where(RecallCase.id == case.id).values(recall_number=number))
    session.flush()
    return case.id


@pytest.mark.parametrize("number", ["../../escape", "a b", "RC\r\n1", "RC-ü", "-RC", "RC.", 'x"y', "R" * 65])
def test_a_recall_number_with_a_bad_format_is_refused_by_cli_and_api(cli, client, number):
    r = cli("recall", "create", "--number", number)
    assert r.code == 2 and "recall number" in r.err
    r = client.post("/recalls", json={"recall_number": number})
    assert r.status_code == 422 and "recall number" in r.text
    assert cli("recall", "list", "--json").json() == []


def test_export_and_report_write_inside_the_working_directory_whatever_the_stored_number(
    cli, session, tmp_path, monkeypatch
):
    case_id = _legacy_number(session, "../../escape")
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    assert cli("recall", "export", str(case_id), "--format", "csv").code == 0
    assert cli("recall", "report", str(case_id)).code == 0
    assert sorted(p.name for p in work.iterdir()) == ["_.._escape-fsma204.csv", "_.._escape-report.html"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        p.name for p in work.iterdir()
    )


@pytest.mark.parametrize(
    ("number", "ascii_name"),
    [
        ('RC-1"; filename="evil.exe', "RC-1___filename__evil.exe-fsma204"),
        ("RC-名前-1", "RC-__-1-fsma204"),
        ("RC-1\r\nSet-Cookie: x=1", "RC-1__Set-Cookie__x_1-fsma204"),
    ],
)
def test_fsma_downloads_name_their_file_safely_whatever_the_stored_number(
    client, session, number, ascii_name
):
    case_id = _legacy_number(session, number)
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/recalls/{case_id}/fsma204.{fmt}")
        assert r.status_code == 200, r.text
        header = r.headers["content-disposition"]
        assert header.startswith(f"attachment; filename=\"{ascii_name}.{fmt}\"; filename*=UTF-8''")
        assert header.count(";") == 2 and "set-cookie" not in r.headers
