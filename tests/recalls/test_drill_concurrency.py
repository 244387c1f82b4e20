"""The mock drill under real commits: the export runs on a second connection beside the report,
and what both wrote is what each gives on its own."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.recalls import actions, cases, consignees
from lotline.recalls.flows import drill
from lotline.reports import fsma204_export, recall_data, recall_report
from tests.worlds import build_world

pytestmark = pytest.mark.concurrency


def test_the_export_runs_beside_the_report_and_writes_the_same_files(committed_engine, tmp_path, monkeypatch):
    with db.transaction() as s:
        build_world(s)
    threads: dict[str, str] = {}
    overlap = threading.Barrier(2, timeout=30)  # breaks (the test fails) unless both run at once
    real_export, real_report = fsma204_export.export, recall_data.report_data

    def export(*args, **kwargs):
        threads["export"] = threading.current_thread().name
        overlap.wait()
        return real_export(*args, **kwargs)

    def report_data(*args, **kwargs):
        threads["report"] = threading.current_thread().name
        overlap.wait()
        return real_report(*args, **kwargs)

    monkeypatch.setattr(fsma204_export, "export", export)
    monkeypatch.setattr(recall_data, "report_data", report_data)
    shown: list[str] = []
    result = drill.run_drill(["F-1"], out_dir=tmp_path, on_step=lambda step: shown.append(step.name))

    assert threads["export"].startswith("drill-export") and threads["report"] == threading.main_thread().name
    names = [s.name for s in result.steps]
    assert names == shown == [
        "open case, targets, initiate", "trace run (persisted)", "plan actions",
        "FSMA 204 export (CSV + XLSX)", "recall report (HTML + JSON)", "cancel",
    ]  # fmt: skip
    assert [p.rsplit("-", 1)[-1] for p in result.files] == ["fsma204.csv", "fsma204.xlsx", "report.html", "report.json"]
    # the wall time: at least the longest step, less than the steps' sum when two overlap
    assert max(s.seconds for s in result.steps) <= result.total_seconds <= sum(s.seconds for s in result.steps)

    files = {p.rsplit("-", 1)[-1]: Path(p).read_bytes() for p in result.files}
    with db.read_snapshot() as s:
        again = real_export(s, fsma204_export.run_sources(s, result.case_id), title=f"FSMA 204 {result.recall_number}")
        data = real_report(s, result.case_id)
        assert cases.find_case(s, result.case_id).status == "canceled"
    assert files["fsma204.csv"] == again.csv and again.rows == 7
    written = json.loads(files["report.json"])
    now = json.loads(recall_report.to_json(data))
    # the case was canceled after the report was written: its lots and customers are unchanged
    for key in ("impacted_lots", "impacted_customers", "targets", "trace_run"):
        assert written[key] == now[key], key
    assert written["case"]["status"] == "active" and len(written["impacted_customers"]) == 3


def test_a_failing_export_beside_the_report_still_cancels_the_drill(committed_engine, monkeypatch):
    with db.transaction() as s:
        build_world(s)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fsma204_export, "write_xlsx", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        drill.run_drill(["F-1"])
    with db.read_snapshot() as s:
        listed = [(c.status, (c.notes or "").splitlines()[-1]) for c in cases.list_cases(s)]
    assert listed == [("canceled", "mock recall drill failed")]


def test_the_export_starts_with_the_plan_and_the_report_shows_the_planned_actions(committed_engine, tmp_path, monkeypatch):
    with db.transaction() as s:
        build_world(s)
    beside = threading.Barrier(2, timeout=30)  # breaks (the test fails) unless the export runs beside the plan
    real_export, real_plan = fsma204_export.export, actions.plan_all

    def export(*args, **kwargs):
        beside.wait()
        return real_export(*args, **kwargs)

    def plan_all(*args, **kwargs):
        beside.wait()
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(fsma204_export, "export", export)
    monkeypatch.setattr(actions, "plan_all", plan_all)
    result = drill.run_drill(["F-1"], out_dir=tmp_path)

    files = {p.rsplit("-", 1)[-1]: Path(p).read_bytes() for p in result.files}
    written = json.loads(files["report.json"])
    # the report was built after the plan was committed: it lists every planned action
    planned = next(s for s in result.steps if s.name == "plan actions").detail
    assert len(written["actions"]) == int(planned.split()[0]) > 0
    assert {a["status"] for a in written["actions"]} == {"planned"}


def test_when_the_export_and_the_report_both_fail_both_are_reported(committed_engine, monkeypatch):
    with db.transaction() as s:
        build_world(s)

    def disk_full(*args, **kwargs):
        raise RuntimeError("disk full")

    def broken_template(*args, **kwargs):
        raise ValueError("template broken")

    monkeypatch.setattr(fsma204_export, "write_xlsx", disk_full)
    monkeypatch.setattr(recall_report, "to_html", broken_template)
    with pytest.raises(RuntimeError, match="disk full") as raised:
        drill.run_drill(["F-1"])
    # the export comes first in the drill's order; the report's failure is attached, not lost
    assert raised.value.__notes__ == ["the recall report step failed too: ValueError: template broken"]
    assert isinstance(raised.value.__context__, ValueError)
    with db.read_snapshot() as s:
        listed = [(c.status, (c.notes or "").splitlines()[-1]) for c in cases.list_cases(s)]
    assert listed == [("canceled", "mock recall drill failed")]


def test_a_failing_plan_beside_the_export_is_raised_and_the_drill_canceled(committed_engine, monkeypatch):
    with db.transaction() as s:
        build_world(s)

    def no_plan(*args, **kwargs):
        raise LookupError("no strategy")

    monkeypatch.setattr(actions, "plan_all", no_plan)
    with pytest.raises(LookupError, match="no strategy") as raised:
        drill.run_drill(["F-1"])
    assert not getattr(raised.value, "__notes__", None)  # the export beside it succeeded
    with db.read_snapshot() as s:
        assert [c.status for c in cases.list_cases(s)] == ["canceled"]


def test_the_export_starts_from_the_run_ids_while_the_run_still_syncs_its_consignees(committed_engine, tmp_path, monkeypatch):
    with db.transaction() as s:
        build_world(s)
    beside = threading.Barrier(2, timeout=30)  # breaks (the test fails) unless the export starts before the run ends
    real_export, real_sync = fsma204_export.export, consignees.sync_from_run

    def export(*args, **kwargs):
        beside.wait()
        return real_export(*args, **kwargs)

    def sync_from_run(*args, **kwargs):
        beside.wait()
        return real_sync(*args, **kwargs)

    monkeypatch.setattr(fsma204_export, "export", export)
    monkeypatch.setattr(consignees, "sync_from_run", sync_from_run)
    result = drill.run_drill(["F-1"], out_dir=tmp_path)
    files = {p.rsplit("-", 1)[-1]: Path(p).read_bytes() for p in result.files}
    with db.read_snapshot() as s:
        again = real_export(s, fsma204_export.run_sources(s, result.case_id), title=f"FSMA 204 {result.recall_number}")
    # the spreadsheet of the ids read before the run committed is the committed run's
    assert files["fsma204.csv"] == again.csv and again.rows == 7


def test_a_run_failing_after_the_export_started_fails_the_drill_and_reports_both(committed_engine, monkeypatch):
    with db.transaction() as s:
        build_world(s)

    def sync_fails(*args, **kwargs):
        raise LookupError("consignees unavailable")

    def disk_full(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(consignees, "sync_from_run", sync_fails)
    with pytest.raises(LookupError, match="consignees unavailable") as raised:
        drill.run_drill(["F-1"])
    assert not getattr(raised.value, "__notes__", None)  # the export it had started succeeded
    monkeypatch.setattr(fsma204_export, "write_xlsx", disk_full)
    with pytest.raises(LookupError, match="consignees unavailable") as raised:
        drill.run_drill(["F-1"])
    assert raised.value.__notes__ == ["the FSMA 204 export step failed too: RuntimeError: disk full"]
    with db.read_snapshot() as s:
        listed = [(c.status, (c.notes or "").splitlines()[-1]) for c in cases.list_cases(s)]
        runs = s.execute(sa.text("SELECT count(*) FROM recall_trace_runs")).scalar_one()
    assert listed == [("canceled", "mock recall drill failed")] * 2 and runs == 0  # the runs rolled back
