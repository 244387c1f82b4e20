"""Chunks read and planned while the chunk before is written (capture._Ahead, bulk.plan_ahead).

A plan made ahead is used only when it needed no query and the chunk before it was written in
bulk; otherwise the chunk is planned in its own savepoint as before. Either way the ledger is the
one the services leave (the Hypothesis equivalence test of test_bulk_equivalence.py covers
random documents in chunks of 2, 3 and 5, so with plans made ahead too)."""

from __future__ import annotations

import pytest

from lotline.epcis import bulk, capture, masterdata
from lotline.epcis.mapping import Mapper
from tests.epcis.ledger_fingerprint import differences
from tests.epcis.test_bulk_equivalence import _captured, _nothing, _plain_flow


@pytest.fixture
def chunks(monkeypatch):
    """Per chunk given to the bulk poster: (had a plan made ahead, was written in bulk)."""
    seen: list[tuple[bool, bool]] = []
    plain = bulk.post_chunk

    def post_chunk(*args, **kw):
        done = plain(*args, **kw)
        seen.append((kw.get("planned") is not None, done is not None))
        return done

    monkeypatch.setattr(bulk, "post_chunk", post_chunk)
    return seen


def test_every_chunk_after_the_first_uses_its_plan_and_the_ledger_equals_the_services(engine, chunks):
    document = _plain_flow(8)
    by_event, report_a = _captured(engine, document, 6, use_bulk=False)
    in_bulk, report_b = _captured(engine, document, 6, use_bulk=True)
    assert chunks == [(False, True), (True, True), (True, True), (True, True)]
    assert report_b == report_a and report_a["counts"]["posted"] == 24
    assert not differences(by_event, in_bulk), differences(by_event, in_bulk)


def test_a_chunk_naming_a_record_not_met_yet_is_planned_again_and_creates_it(engine, chunks):
    # chunk 1 (events 0-4) ships to SHOP only; chunk 2 ships to CAFE, which the job has not met:
    # its plan ahead would need the database, so the chunk is planned in its savepoint, creating CAFE
    document = _plain_flow(4)
    by_event, report_a = _captured(engine, document, 5, use_bulk=False, create=True, world=_nothing)
    in_bulk, report_b = _captured(engine, document, 5, use_bulk=True, create=True, world=_nothing)
    assert chunks[:2] == [(False, True), (False, True)]
    assert all(written for _planned, written in chunks)
    assert {r["code"] for r in in_bulk["customers"]} == {"SHOP", "CAFE"}
    assert report_b == report_a
    assert not differences(by_event, in_bulk), differences(by_event, in_bulk)


def test_after_a_chunk_left_to_the_services_the_next_one_is_planned_in_turn(engine, chunks):
    # the first chunk's last shipment is short: the bulk poster gives it up before writing, so
    # nothing was read ahead; the next chunk is read and planned in turn, and goes in bulk
    document = _plain_flow(4)
    document["epcisBody"]["eventList"][5]["quantityList"][0]["quantity"] = 500
    by_event, report_a = _captured(engine, document, 6, use_bulk=False)
    in_bulk, report_b = _captured(engine, document, 6, use_bulk=True)
    assert chunks == [(False, False), (False, True)]
    assert report_a["counts"]["refused"] == 1
    assert report_b == report_a
    assert not differences(by_event, in_bulk), differences(by_event, in_bulk)


def test_plan_ahead_never_queries_and_leaves_the_registry_bound():
    class Unreachable:
        def __getattr__(self, name):
            raise AssertionError("plan_ahead used the session")

    session = Unreachable()
    registry = masterdata.Registry(session, create=True)  # type: ignore[arg-type]
    document = _plain_flow(1)["epcisBody"]["eventList"]
    keys = [e["eventID"] for e in document]
    assert bulk.plan_ahead(document, keys, 0, Mapper(registry), ["x"] * len(keys)) is None  # nothing met yet
    assert registry.session is session


def test_an_error_reading_the_chunk_ahead_is_raised_where_reading_in_turn_raised_it(monkeypatch):
    monkeypatch.setattr(capture, "CHUNK", 2)

    def events():
        yield {"type": "AggregationEvent", "eventID": "a"}
        yield {"type": "AggregationEvent", "eventID": "b"}
        raise ValueError("broken document")

    ahead = capture._Ahead(events(), Mapper(masterdata.Registry(None, create=False)))
    chunk, planned = ahead.take()
    assert [e["eventID"] for e in chunk] == ["a", "b"] and planned is None
    ahead.read(2)  # beside the first chunk's writes: the error waits
    with pytest.raises(ValueError, match="broken document"):
        ahead.take()


def test_a_plan_that_fails_unexpectedly_is_no_plan_and_the_chunk_is_still_read(monkeypatch):
    monkeypatch.setattr(capture, "CHUNK", 1)

    def broken(*_args, **_kw):
        raise ZeroDivisionError("a planning bug")

    monkeypatch.setattr(bulk, "plan_ahead", broken)
    events = iter([{"type": "AggregationEvent", "eventID": "a"}, {"type": "AggregationEvent", "eventID": "b"}])
    ahead = capture._Ahead(events, Mapper(masterdata.Registry(None, create=False)))
    ahead.take()
    ahead.read(1)
    chunk, planned = ahead.take()
    assert [e["eventID"] for e in chunk] == ["b"] and planned is None
