"""Capturing EPCIS events posts through the ordinary services, with their lot rules, idempotently."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.epcis import capture, masterdata
from lotline.lots import service as lots_service
from lotline.models import Lot, SalesOrder
from tests.builders import at, make_customer, make_item, make_location, make_vendor
from tests.epcis.support import GTIN_BREAD, GTIN_FLOUR, doc, event, lgtin, qty, run

VENDOR = "urn:lotline:vendor:MILL"
CUSTOMER = "urn:lotline:customer:SHOP"
WH = {"id": "urn:lotline:loc:WH1"}


@pytest.fixture
def world(session):
    flour = make_item(session, "FLOUR", uom="kg", shelf_life_days=90)
    bread = make_item(session, "BREAD", uom="ea")
    make_location(session, "WH1")
    make_location(session, "QA", kind="quarantine")
    make_vendor(session, "MILL")
    make_customer(session, "SHOP")
    masterdata.add_identifier(session, "item", flour.id, "gtin", GTIN_FLOUR, company_prefix_length=7)
    masterdata.add_identifier(session, "item", bread.id, "gtin", GTIN_BREAD, company_prefix_length=7)
    session.flush()
    return {"flour": flour, "bread": bread}


def receiving(lot="F-1", q=100, when=None, **kw):
    return event("ObjectEvent", when or at(0), action="ADD", bizStep="receiving", bizLocation=WH,
                 quantityList=[qty(lgtin(GTIN_FLOUR, lot), q)], sourceList=[{"type": "owning_party", "source": VENDOR}],
                 **kw)


def shipping(lot="F-1", q=10, when=None, po="urn:lotline:so:SO-9", gtin=GTIN_FLOUR, uom="KGM", **kw):
    return event("ObjectEvent", when or at(1), action="OBSERVE", bizStep="shipping", bizLocation=WH,
                 quantityList=[qty(lgtin(gtin, lot), q, uom)], bizTransactionList=[{"type": "po", "bizTransaction": po}],
                 destinationList=[{"type": "owning_party", "destination": CUSTOMER}], **kw)


def results(job):
    with db.read_snapshot() as s:
        return capture.get_job(s, job.id)["results"]


def lot_of(session, code):
    return session.scalar(sa.select(Lot).where(Lot.lot_code == code))


def test_receiving_creates_the_lot_with_its_ilmd_and_grams_become_kilograms(world, session):
    job = run(doc(receiving(q=2500, ilmd={"cbvmda:itemExpirationDate": "2026-03-01", "cbvmda:productionDate": "2026-01-02"})
                  | {}))
    assert job.status == "succeeded", job.refusals
    lot = lot_of(session, "F-1")
    assert lot.expires_at.date().isoformat() == "2026-03-01" and lot.manufactured_at.date().isoformat() == "2026-01-02"
    assert lots_service.lot_quantity(session, lot.id) == Decimal(2500)
    grams = receiving(lot="F-2", q=2500)
    grams["quantityList"][0]["uom"] = "GRM"
    assert run(doc(grams)).status == "succeeded"
    assert lots_service.lot_quantity(session, lot_of(session, "F-2").id) == Decimal("2.5")


def test_shipping_finds_or_creates_its_sales_order_and_links_the_lot_to_the_customer(world, session):
    job = run(doc(receiving(), shipping(q=10), shipping(q=5, when=at(2), eventID="urn:uuid:00000000-0000-4000-8000-000000000002")))
    assert job.status == "succeeded", job.refusals
    order = session.scalar(sa.select(SalesOrder).where(SalesOrder.number == "SO-9"))
    assert order is not None
    assert [r["mapping"] for r in results(job)] == ["receipt", "shipment", "shipment"]
    assert "order SO-9 (created)" in results(job)[1]["message"]
    assert lots_service.lot_quantity(session, lot_of(session, "F-1").id) == Decimal(85)


def test_an_event_breaking_a_lot_rule_is_refused_with_the_same_error_naming_the_event(world, session):
    job = run(doc(receiving(q=5), shipping(q=10, eventID="urn:uuid:11111111-1111-4111-8111-111111111111")))
    assert job.status == "partial"
    (refused,) = job.refusals
    assert refused.code == "insufficient_quantity"
    assert refused.message.startswith("event 1 (urn:uuid:11111111-1111-4111-8111-111111111111): ")
    assert "lot F-1 of FLOUR has 5 kg at WH1, 10 requested" in refused.message
    assert session.scalar(sa.select(SalesOrder).where(SalesOrder.number == "SO-9")) is None  # nothing half-written


def test_a_refused_event_in_a_chunk_tried_at_once_leaves_the_others_posted_exactly_once(world, session):
    # the chunk is first tried whole; the refusal makes it run again event by event (the fallback)
    job = run(doc(receiving(q=5), shipping(q=10, eventID="urn:uuid:11111111-1111-4111-8111-111111111111"),
                  shipping(q=2, po="urn:lotline:so:SO-10", eventID="urn:uuid:11111111-1111-4111-8111-111111111112")))
    assert [r["outcome"] for r in results(job)] == ["posted", "refused", "posted"]
    assert job.counts == {"posted": 2, "replayed": 0, "stored": 0, "skipped": 0, "refused": 1}
    assert lots_service.lot_quantity(session, lot_of(session, "F-1").id) == Decimal(3)
    assert session.scalar(sa.text("SELECT count(*) FROM epcis_events")) == 2
    assert session.scalar(sa.text("SELECT count(*) FROM inventory_movements")) == 2


def test_the_audit_reason_of_a_status_event_does_not_carry_over_to_the_next_event(world, session):
    recalled = event("ObjectEvent", at(0, 1), action="OBSERVE", bizStep="holding", disposition="recalled",
                     quantityList=[{"epcClass": lgtin(GTIN_FLOUR, "F-1")}])
    job = run(doc(receiving(), recalled, receiving(lot="F-2", when=at(0, 2))))
    assert job.status == "succeeded", job.refusals
    status_reason, later_reason = session.execute(sa.text(
        "SELECT (SELECT reason FROM audit_log WHERE table_name = 'lots' AND operation = 'UPDATE'"
        "         AND new_values ->> 'lot_code' = 'F-1' ORDER BY id DESC LIMIT 1),"
        # the latest entry of each: audit_log is append-only, so committed tests before this one
        # may have left entries for lots of the same codes
        "       (SELECT reason FROM audit_log WHERE table_name = 'lots' AND operation = 'INSERT'"
        "         AND new_values ->> 'lot_code' = 'F-2' ORDER BY id DESC LIMIT 1)"
    )).one()
    assert status_reason and status_reason.startswith("EPCIS event 1")
    assert later_reason is None


def test_a_blocked_lot_is_not_shipped(world, session):
    recalled = event("ObjectEvent", at(0, 1), action="OBSERVE", bizStep="holding", disposition="recalled",
                     quantityList=[{"epcClass": lgtin(GTIN_FLOUR, "F-1")}])
    job = run(doc(receiving(), recalled, shipping()))
    assert lot_of(session, "F-1").status == "blocked"
    assert [r["outcome"] for r in results(job)] == ["posted", "posted", "refused"]
    assert job.refusals[0].code == "lot_not_released"


def test_importing_a_document_twice_posts_nothing_the_second_time(world, session):
    d = doc(receiving(), shipping())
    first, second = run(d), run(d)
    assert first.counts["posted"] == 2 and second.counts == {**second.counts, "posted": 0, "replayed": 2}
    assert lots_service.lot_quantity(session, lot_of(session, "F-1").id) == Decimal(90)


def test_an_event_without_event_id_is_recognised_by_its_content_hash(world):
    d = doc(receiving())
    assert "eventID" not in d["epcisBody"]["eventList"][0]
    assert run(d).counts["posted"] == 1 and run(d).counts["replayed"] == 1


def test_atomic_posts_nothing_when_one_event_is_refused_and_lists_every_refusal(world, session):
    job = run(doc(receiving(q=5), shipping(q=10), shipping(q=20, when=at(3))), atomic=True)
    assert job.status == "failed" and job.counts["refused"] == 2 and job.counts["posted"] == 0
    assert lot_of(session, "F-1") is None
    assert [r["outcome"] for r in results(job)] == ["refused", "refused"]


def test_an_error_declaration_reverses_what_the_declared_event_posted(world, session):
    first = receiving(eventID="urn:uuid:22222222-2222-4222-8222-222222222222")
    declared = dict(first, errorDeclaration={"declarationTime": "2026-01-06T00:00:00Z", "reason": "incorrect_data"})
    job = run(doc(first, declared))
    assert job.status == "succeeded", job.refusals
    assert lots_service.lot_quantity(session, lot_of(session, "F-1").id) == 0
    assert results(job)[1]["mapping"] == "declaration"
    assert run(doc(declared)).counts["replayed"] == 1


def test_a_transformation_is_an_execution_with_genealogy(world, session):
    bake = event("TransformationEvent", at(1), bizStep="commissioning", bizLocation=WH,
                 inputQuantityList=[qty(lgtin(GTIN_FLOUR, "F-1"), 30)],
                 outputQuantityList=[qty(lgtin(GTIN_BREAD, "B-1"), 60, "H87")],
                 transformationID="urn:uuid:33333333-3333-4333-8333-333333333333",
                 ilmd={"cbvmda:bestBeforeDate": "2026-01-20"})
    job = run(doc(receiving(), bake))
    assert job.status == "succeeded", job.refusals
    edges = session.execute(sa.text(
        "SELECT p.lot_code, c.lot_code, g.consumed_quantity, g.produced_quantity FROM lot_genealogy_edges g"
        " JOIN lots p ON p.id = g.parent_lot_id JOIN lots c ON c.id = g.child_lot_id")).all()
    assert [tuple(e) for e in edges] == [("F-1", "B-1", Decimal(30), Decimal(60))]
    assert lot_of(session, "B-1").expires_at.date().isoformat() == "2026-01-20"


def test_destroying_scraps_and_a_count_adjusts(world, session):
    destroy = event("ObjectEvent", at(1), action="OBSERVE", bizStep="destroying", bizLocation=WH,
                    quantityList=[qty(lgtin(GTIN_FLOUR, "F-1"), 7)])
    count = event("ObjectEvent", at(2), action="DELETE", bizStep="cycle_counting", bizLocation=WH,
                  quantityList=[qty(lgtin(GTIN_FLOUR, "F-1"), 3)])
    job = run(doc(receiving(), destroy, count))
    assert [r["mapping"] for r in results(job)] == ["receipt", "scrap", "adjustment"]
    assert lots_service.lot_quantity(session, lot_of(session, "F-1").id) == Decimal(90)


def test_unknown_master_data_is_refused_unless_asked_to_create_it(session):
    d = doc(receiving())
    job = run(d)
    assert job.refusals[0].code == "not_found" and "no item is identified by" in job.refusals[0].message
    assert run(d, create_master_data=True).status == "succeeded"
    item = session.execute(sa.text("SELECT i.sku FROM gs1_identifiers g JOIN items i ON i.id = g.item_id")).scalar()
    assert item == GTIN_FLOUR


def test_a_unit_of_another_dimension_is_refused_naming_it(world):
    bad = receiving()
    bad["quantityList"][0]["uom"] = "LTR"
    job = run(doc(bad))
    assert "unit LTR (volume) cannot be converted to item FLOUR's stocking unit 'kg'" in job.refusals[0].message


def test_aggregation_and_instance_level_events_are_stored_or_skipped_and_counted(world):
    pack = event("AggregationEvent", at(1), action="ADD", parentID="urn:epc:id:sscc:0614141.1234567890",
                 childEPCs=["urn:epc:id:sgtin:0614141.107346.2017"])
    serials = event("ObjectEvent", at(1), action="OBSERVE", bizStep="receiving", epcList=["urn:epc:id:sgtin:0614141.107346.2018"])
    job = run(doc(pack, serials))
    assert job.counts["stored"] == 1 and job.counts["skipped"] == 1


def test_captured_events_can_be_queried_by_class_lot_step_and_time(world, client):
    run(doc(receiving(), shipping()))
    body = client.get("/epcis/events", params={"MATCH_anyEPCClass": f"https://id.gs1.org/01/{GTIN_FLOUR}"}).json()
    assert len(body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    body = client.get("/epcis/events", params={"lot": "F-1", "EQ_bizStep": "shipping"}).json()
    assert [e["bizStep"] for e in body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == ["shipping"]
    body = client.get("/epcis/events", params={"LT_eventTime": "2026-01-05T12:00:00Z"}).json()
    assert len(body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1
    assert client.get("/epcis/events", params={"eventType": "Nonsense"}).status_code == 422


def test_capture_over_http_answers_with_a_job_that_can_be_read_back(world, client):
    import json

    r = client.post("/epcis/capture", content=json.dumps(doc(receiving())).encode())
    assert r.status_code == 202 and r.json()["status"] == "succeeded"
    job = client.get(r.headers["Location"].removeprefix("/api/v1")).json()
    assert [x["mapping"] for x in job["results"]] == ["receipt"]
    bad = client.post("/epcis/capture", content=b'{"type": "EPCISDocument"}').json()
    assert bad["status"] == "failed" and "@context is required" in bad["error"]


def _baked(world):
    bake = event("TransformationEvent", at(1), bizStep="commissioning", bizLocation=WH,
                 inputQuantityList=[qty(lgtin(GTIN_FLOUR, "F-1"), 30)],
                 outputQuantityList=[qty(lgtin(GTIN_BREAD, "B-1"), 60, "H87")],
                 bizTransactionList=[{"type": "prodorder", "bizTransaction": "urn:lotline:wo:WO-1"}])
    job = run(doc(receiving(), bake, shipping(lot="B-1", q=12, gtin=GTIN_BREAD, uom="H87", when=at(2))))
    assert job.status == "succeeded", job.refusals


def test_a_recall_run_exports_as_one_gs1_valid_document(world, session, gs1_validator):
    from lotline.epcis import export
    from lotline.recalls import service as recalls
    from lotline.recalls.schemas import CaseIn, TargetIn

    _baked(world)
    case = recalls.create_case(session, CaseIn(recall_number="RC-1", severity="high"))
    recalls.add_target(session, case.id, TargetIn(lot="F-1", item="FLOUR"))
    recalls.compute_run(session, case.id)
    d = export.export_recall(session, "RC-1")
    assert list(gs1_validator.iter_errors(d)) == []
    steps = [e.get("bizStep") for e in d["epcisBody"]["eventList"]]
    assert steps == ["receiving", "commissioning", None, "shipping"]  # the order (None) just before its shipment
    shipped = d["epcisBody"]["eventList"][-1]
    assert shipped["quantityList"] == [{"epcClass": "urn:epc:class:lgtin:4012345.022222.B-1", "quantity": 12, "uom": "H87"}]


def test_the_cli_exports_a_trace_and_imports_it_again_as_nothing_new(world, cli, tmp_path):
    _baked(world)
    out = tmp_path / "f1.json"
    r = cli("epcis", "export", "--lot", "F-1", "--item", "FLOUR", "-o", str(out))
    assert r.code == 0, r.err
    assert cli("epcis", "validate", str(out)).code == 0
    r = cli("epcis", "import", str(out), "--json")
    assert r.code == 0, r.err
    (job,) = r.json()
    # postings that came from captured events are exported under those events' IDs: nothing posts twice
    # (the order, created for the shipment, is already there: stored)
    assert (job["posted"], job["replayed"], job["stored"], job["refused"]) == (0, 3, 1, 0)
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "EPCISDocument"}')
    r = cli("epcis", "import", str(bad))
    assert r.code == 2 and "@context is required" in r.err
