"""Every valid shared EPCIS document is captured and reported event by event; every invalid one refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.epcis import capture
from tests.epcis.conftest import shared_docs


def _capture(path, **kw):
    return capture.capture(capture.source_of_path(path), name=path.name, **kw)


@pytest.mark.parametrize("path", shared_docs("valid"), ids=lambda p: p.name)
def test_a_valid_shared_document_is_reported_event_by_event(connection, path):
    job = _capture(path, create_master_data=True)
    with db.read_snapshot() as s:
        read = capture.get_job(s, job.id)
    assert read["status"] in ("succeeded", "partial")
    assert len(read["results"]) == read["events_total"] == job.events_total > 0
    assert [r["seq"] for r in read["results"]] == list(range(job.events_total))
    for r in read["results"]:
        assert r["outcome"] in ("posted", "stored", "skipped", "refused")
        if r["outcome"] == "refused":
            assert r["message"].startswith(f"event {r['seq']}") and r["code"]
    counted = sum(read[k] for k in ("posted", "replayed", "stored", "skipped", "refused"))
    assert counted == read["events_total"]
    print(path.name, [(r["outcome"], r["mapping"], r["message"]) for r in read["results"]])


@pytest.mark.parametrize("path", shared_docs("invalid"), ids=lambda p: p.name)
def test_an_invalid_shared_document_is_refused_whole_with_its_reason(connection, path):
    job = _capture(path, create_master_data=True)
    assert job.status == "failed"
    assert "breaks the EPCIS 2.0 schema; nothing was posted" in job.error
    with db.read_snapshot() as s:
        read = capture.get_job(s, job.id)
        assert read["status"] == "failed" and read["error"] == job.error
        assert s.execute(sa.text("SELECT count(*) FROM epcis_events WHERE capture_job_id = :j"), {"j": job.id}).scalar() == 0
