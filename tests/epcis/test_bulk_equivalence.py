"""The set-based chunk poster posts exactly what the per-event services post, or leaves the chunk to them.

Random documents — receipts, transformations and shipments of a few lots at random, often back-dated
times, with quantities that run short, unknown parties, expired and held lots, reused order and
work order numbers, duplicated events and error declarations — are captured twice from the same
starting database: every chunk through the posting services one event at a time (``bulk=False``),
and with the bulk poster first (``bulk=True``). The two must leave equal ledgers: movements, lines,
lot rows, lots, balances, genealogy, shipments and orders with their fill state, the derived tables,
the captured events, the capture report with every refusal's message, and the audit trail (one
entry per row written, with its values).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from lotline import db
from lotline.epcis import bulk, capture, identifiers, masterdata
from tests.builders import at, make_customer, make_item, make_location, make_vendor
from tests.epcis.ledger_fingerprint import differences, fingerprint
from tests.epcis.support import GTIN_BREAD, GTIN_FLOUR, doc, event, lgtin, qty

GTIN_SUGAR = "0401234533333" + identifiers.check_digit("0401234533333")
ITEMS = {"FLOUR": GTIN_FLOUR, "SUGAR": GTIN_SUGAR, "BREAD": GTIN_BREAD}
UOM = {"FLOUR": "KGM", "SUGAR": "KGM", "BREAD": "H87"}
LOTS = ["L1", "L2", "L3", "L4"]
PLACES = ["urn:lotline:loc:WH1", "urn:lotline:loc:WH2", "urn:lotline:loc:QA"]
VENDORS = ["urn:lotline:vendor:MILL", "urn:lotline:vendor:MILL", "urn:lotline:vendor:NOBODY"]
CUSTOMERS = ["urn:lotline:customer:SHOP", "urn:lotline:customer:CAFE"]


def _world(s: Session) -> None:
    flour = make_item(s, "FLOUR", uom="kg", shelf_life_days=30)
    sugar = make_item(s, "SUGAR", uom="kg")
    bread = make_item(s, "BREAD", uom="ea", shelf_life_days=3)
    for item in (flour, sugar, bread):
        masterdata.add_identifier(s, "item", item.id, "gtin", ITEMS[item.sku], company_prefix_length=7)
    make_location(s, "WH1")
    make_location(s, "WH2")
    make_location(s, "QA", kind="quarantine")
    make_vendor(s, "MILL")
    make_customer(s, "SHOP")
    make_customer(s, "CAFE")
    s.flush()


def _when(minutes: int):
    return at(-30) + timedelta(minutes=minutes)


times = st.integers(0, 40)
items = st.sampled_from(list(ITEMS))
lots = st.sampled_from(LOTS)
quantities = st.integers(1, 30)


@st.composite
def receiving(draw):
    item, lot = draw(items), draw(lots)
    ilmd = draw(st.sampled_from([None, {"cbvmda:itemExpirationDate": "2025-12-01"},
                                 {"cbvmda:itemExpirationDate": "2027-01-01", "cbvmda:productionDate": "2025-11-30"}]))
    return event("ObjectEvent", _when(draw(times)), action="ADD", bizStep="receiving",
                 bizLocation={"id": draw(st.sampled_from(PLACES[:2]))},
                 quantityList=[qty(lgtin(ITEMS[item], lot), draw(quantities), UOM[item])],
                 sourceList=[{"type": "owning_party", "source": draw(st.sampled_from(VENDORS))}],
                 **({"ilmd": ilmd} if ilmd else {}))


@st.composite
def shipping(draw):
    picked = draw(st.lists(st.tuples(items, lots, quantities), min_size=1, max_size=1))
    members = {}
    if draw(st.booleans()):
        members["bizTransactionList"] = [{"type": "po", "bizTransaction": f"urn:lotline:so:PO-{draw(st.integers(0, 4))}"}]
    if draw(st.integers(0, 9)) == 0:
        members["disposition"] = "in_transit"
    return event("ObjectEvent", _when(draw(times)), action="OBSERVE", bizStep="shipping",
                 bizLocation={"id": draw(st.sampled_from(PLACES[:2]))},
                 quantityList=[qty(lgtin(ITEMS[i], lot), q, UOM[i]) for i, lot, q in picked],
                 destinationList=[{"type": "owning_party", "destination": draw(st.sampled_from(CUSTOMERS))}], **members)


@st.composite
def transformation(draw):
    ins = draw(st.lists(st.tuples(st.sampled_from(["FLOUR", "SUGAR"]), lots, quantities), min_size=0, max_size=1))
    out_lot = draw(st.sampled_from(["B1", "B2", "B3", "B4", "B5"]))
    members = {"transformationID": f"urn:uuid:22222222-0000-4000-8000-{draw(st.integers(0, 6)):012d}"}
    return event("TransformationEvent", _when(draw(times)), bizStep="commissioning",
                 bizLocation={"id": draw(st.sampled_from(PLACES[:2]))},
                 inputQuantityList=[qty(lgtin(ITEMS[i], lot), q, UOM[i]) for i, lot, q in ins],
                 outputQuantityList=[qty(lgtin(GTIN_BREAD, out_lot), draw(quantities), "H87")], **members)


@st.composite
def holding(draw):
    item, lot = draw(items), draw(lots)
    return event("ObjectEvent", _when(draw(times)), action="OBSERVE", bizStep="holding",
                 bizLocation={"id": PLACES[0]}, quantityList=[qty(lgtin(ITEMS[item], lot), 1, UOM[item])])


aggregation = st.builds(lambda m: event("AggregationEvent", _when(m), action="ADD",
                                        parentID="urn:epc:id:sscc:4012345.0000000001",
                                        childEPCs=["urn:epc:id:sgtin:4012345.011111.7"]), times)


@st.composite
def documents(draw):
    kinds = st.one_of(receiving(), receiving(), shipping(), shipping(), transformation(), transformation(),
                      holding() if draw(st.integers(0, 3)) == 0 else aggregation, aggregation)
    events = draw(st.lists(kinds, min_size=1, max_size=24))
    for n, ev in enumerate(events):
        ev["eventID"] = f"urn:uuid:33333333-0000-4000-8000-{n:012d}"
    extra = []
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        target = draw(st.integers(0, len(events) - 1))
        if draw(st.booleans()):  # the same event again: a replay
            extra.append((draw(st.integers(0, len(events))), dict(events[target])))
        else:
            decl = dict(events[target])  # the declared event, corrected: undo what it posted
            decl["errorDeclaration"] = {"declarationTime": _when(46).isoformat(), "reason": "incorrect_data"}
            extra.append((len(events), decl))
    for pos, ev in sorted(extra, key=lambda x: x[0], reverse=True):
        events.insert(pos, ev)
    return doc(*events)


@st.composite
def orderly(draw):
    """Mostly what an ERP sends — lots received before they are used, times rising — with a few rule breakers
    (a back-dated shipment, a take larger than the stock, an expired lot, an unknown vendor, a reused order
    number). At most one line of an event can be short: when several are, which one a refusal names
    follows the lots' random ids (the services check in id order), in either path."""
    events, left, t = [], {}, 0
    for k in range(draw(st.integers(2, 24))):
        t += draw(st.integers(0, 3))
        odd = draw(st.integers(0, 12)) == 0
        kind = draw(st.sampled_from(["receipt", "receipt", "transformation", "shipment", "shipment"]))
        here = {"id": PLACES[0]}
        raws = [lot for lot, q in left.items() if lot[0] != "BREAD" and q > 10]
        stocked = [lot for lot, q in left.items() if q > 10]
        if kind == "receipt" or (kind == "transformation" and not raws) or (kind == "shipment" and not stocked):
            item, q = draw(items), draw(st.integers(50, 100))
            members = {"ilmd": {"cbvmda:itemExpirationDate": "2025-12-01"}} if odd else {}
            events.append(event("ObjectEvent", _when(t), action="ADD", bizStep="receiving", bizLocation=here,
                                quantityList=[qty(lgtin(ITEMS[item], f"O{k}"), q, UOM[item])],
                                sourceList=[{"type": "owning_party", "source": VENDORS[2 if odd else 0]}], **members))
            left[(item, f"O{k}")] = 0 if odd else q
            continue
        pool = raws if kind == "transformation" else stocked
        picked = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
        takes = []
        for n, lot in enumerate(picked):
            q = 500 if odd and n == 0 else draw(st.integers(1, 10))
            left[lot] -= q
            takes.append((lot, q))
        if kind == "transformation":
            q = draw(st.integers(5, 40))
            events.append(event("TransformationEvent", _when(t), bizStep="commissioning", bizLocation=here,
                                inputQuantityList=[qty(lgtin(ITEMS[i], lot), q_, UOM[i]) for (i, lot), q_ in takes],
                                outputQuantityList=[qty(lgtin(GTIN_BREAD, f"P{k}"), q, "H87")],
                                transformationID=f"urn:uuid:66666666-0000-4000-8000-{k:012d}"))
            left[("BREAD", f"P{k}")] = q
        else:
            back = len(takes) == 1 and draw(st.integers(0, 8)) == 0
            po = f"PO-{draw(st.integers(0, k))}" if draw(st.integers(0, 12)) == 0 else f"PO-{k}"
            events.append(event("ObjectEvent", _when(t - (draw(st.integers(1, 5)) if back else 0)), action="OBSERVE",
                                bizStep="shipping", bizLocation=here,
                                quantityList=[qty(lgtin(ITEMS[i], lot), q_, UOM[i]) for (i, lot), q_ in takes],
                                bizTransactionList=[{"type": "po", "bizTransaction": f"urn:lotline:so:{po}"}],
                                destinationList=[{"type": "owning_party", "destination": draw(st.sampled_from(CUSTOMERS))}]))
        if odd:  # refused: nothing taken
            for lot, q in takes:
                left[lot] += q
    for n, ev in enumerate(events):
        ev["eventID"] = f"urn:uuid:77777777-0000-4000-8000-{n:012d}"
    return doc(*events)


def _captured(engine, document: dict, chunk: int, *, use_bulk: bool, create: bool = False,
              world=_world) -> tuple[dict, dict]:
    """Capture ``document`` into a fresh world inside a transaction rolled back afterwards; its fingerprint.

    ``create``: the job creates the master data the document names and the world lacks."""
    conn = engine.connect()
    outer = conn.begin()
    db.configure_sessions(sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False),
                          snapshots=False)
    plain = capture.CHUNK
    capture.CHUNK = chunk
    try:
        with Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
            world(s)
            s.commit()  # releases the session's savepoint: the world stays in the outer transaction
        job = capture.capture(capture.source_of_bytes(json.dumps(document).encode()), bulk=use_bulk,
                              create_master_data=create)
        summary = {"status": job.status, "counts": job.counts, "error": job.error}
        return fingerprint(conn), summary
    finally:
        capture.CHUNK = plain
        db.configure_sessions(None)
        outer.rollback()
        conn.close()


@pytest.fixture
def bulk_chunks(monkeypatch):
    """How many chunks the bulk poster wrote (None: left to the services); it runs unchanged."""
    taken: list = []
    plain = bulk.post_chunk

    def post_chunk(*args, **kw):
        done = plain(*args, **kw)
        taken.append(done is not None)
        return done

    monkeypatch.setattr(bulk, "post_chunk", post_chunk)
    return taken


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(document=st.one_of(documents(), orderly(), orderly()), chunk=st.sampled_from([2, 3, 5, 500]),
       create=st.booleans())
def test_a_document_captured_in_bulk_leaves_the_ledger_the_services_leave(engine, bulk_chunks, document, chunk, create):
    # create: the unknown vendor (NOBODY) is created by the capture instead of refusing its receipts
    bulk_chunks.clear()  # (one fixture for every example)
    by_event, report_a = _captured(engine, document, chunk, use_bulk=False, create=create)
    assert not bulk_chunks  # the reference capture never reached the bulk poster
    in_bulk, report_b = _captured(engine, document, chunk, use_bulk=True, create=create)
    assert report_a == report_b
    assert not differences(by_event, in_bulk), differences(by_event, in_bulk)
    bulk_chunks.clear()


def _plain_flow(n: int) -> dict:
    """Receipts, then transformations of their lots, then shipments of the outputs: every chunk bulk-eligible."""
    events = []
    for k in range(n):
        lot = f"R{k}"
        events.append(event("ObjectEvent", _when(k), action="ADD", bizStep="receiving", bizLocation={"id": PLACES[0]},
                            quantityList=[qty(lgtin(GTIN_FLOUR, lot), 100)],
                            sourceList=[{"type": "owning_party", "source": VENDORS[0]}]))
        events.append(event("TransformationEvent", _when(k) + timedelta(seconds=10), bizStep="commissioning",
                            bizLocation={"id": PLACES[0]}, inputQuantityList=[qty(lgtin(GTIN_FLOUR, lot), 40)],
                            outputQuantityList=[qty(lgtin(GTIN_BREAD, f"B{k}"), 20, "H87")],
                            transformationID=f"urn:uuid:44444444-0000-4000-8000-{k:012d}"))
        events.append(event("ObjectEvent", _when(k) + timedelta(seconds=20), action="OBSERVE", bizStep="shipping",
                            bizLocation={"id": PLACES[0]}, quantityList=[qty(lgtin(GTIN_BREAD, f"B{k}"), 5, "H87")],
                            bizTransactionList=[{"type": "po", "bizTransaction": f"urn:lotline:so:P-{k}"}],
                            destinationList=[{"type": "owning_party", "destination": CUSTOMERS[k % 2]}]))
    for n_, ev in enumerate(events):
        ev["eventID"] = f"urn:uuid:55555555-0000-4000-8000-{n_:012d}"
    return doc(*events)


def test_receipts_transformations_and_shipments_go_in_bulk_and_equal_the_services(engine, bulk_chunks):
    document = _plain_flow(8)
    by_event, report_a = _captured(engine, document, 6, use_bulk=False)
    in_bulk, report_b = _captured(engine, document, 6, use_bulk=True)
    assert bulk_chunks == [True, True, True, True]
    assert report_b == report_a == {"status": "succeeded", "counts": report_a["counts"], "error": None}
    assert report_a["counts"]["posted"] == 24
    assert not differences(by_event, in_bulk), differences(by_event, in_bulk)


def test_every_row_the_bulk_poster_writes_has_its_audit_entry(engine, bulk_chunks):
    _by_event, _ = _captured(engine, _plain_flow(3), 500, use_bulk=False)
    in_bulk, _ = _captured(engine, _plain_flow(3), 500, use_bulk=True)
    assert bulk_chunks == [True]
    inserted = {}
    for entry in in_bulk["audit_log"]:
        if entry["operation"] == "INSERT":
            inserted.setdefault(entry["table"], []).append(entry["new"])
    for table in ("lots", "work_orders", "work_order_executions", "work_order_lot_links", "sales_order_lines", "sales_order_shipments", "sales_order_shipment_lines", "shipment_lot_links",
                  "inventory_movements", "inventory_movement_lines", "inventory_movement_lots"):
        assert sorted(inserted.get(table, []), key=str) == sorted(in_bulk[table], key=str), table
    closed = [e for e in in_bulk["audit_log"] if e["table"] == "sales_orders" and e["operation"] == "UPDATE"]
    assert [(e["old"]["status"], e["new"]["status"]) for e in closed] == [("open", "closed")] * 3


def _nothing(s: Session) -> None:
    """A world without master data: the capture creates every item, location, vendor and customer."""


def test_master_data_created_by_a_bulk_chunk_equals_what_the_services_create(engine, bulk_chunks):
    document = _plain_flow(4)
    document["epcisHeader"] = {"epcisMasterData": {"vocabularyList": [{
        "type": "urn:epcglobal:epcis:vtype:EPCClass",
        "vocabularyElementList": [{"id": identifiers.lot_class(gtin=GTIN_FLOUR, cp_len=7, sku="FLOUR", lot=None),
                                   "attributes": [{"id": "urn:lotline:mda:sku", "attribute": "FLOUR"},
                                                  {"id": "urn:lotline:mda:name", "attribute": "Flour T55"},
                                                  {"id": "urn:lotline:mda:uom", "attribute": "kg"},
                                                  {"id": "urn:lotline:mda:shelfLifeDays", "attribute": "30"}]}],
    }]}}
    by_event, report_a = _captured(engine, document, 5, use_bulk=False, create=True, world=_nothing)
    in_bulk, report_b = _captured(engine, document, 5, use_bulk=True, create=True, world=_nothing)
    assert bulk_chunks[0] is True  # the first chunk, which creates every record, went in bulk
    assert report_b == report_a == {"status": "succeeded", "counts": report_a["counts"], "error": None}
    assert {r["sku"] for r in in_bulk["items"]} == {"FLOUR", GTIN_BREAD}
    assert [r["name"] for r in in_bulk["items"] if r["sku"] == "FLOUR"] == ["Flour T55"]
    assert {r["code"] for r in in_bulk["customers"]} == {"SHOP", "CAFE"}
    assert not differences(by_event, in_bulk), differences(by_event, in_bulk)


def test_a_bulk_chunk_that_goes_per_event_after_creating_master_data_leaves_none_behind(engine, bulk_chunks):
    # the last shipment takes more than was made: the bulk poster gives the chunk up after its
    # planning created the records; the services then create them again (and refuse that one
    # event), with no duplicate and no record left over from the bulk attempt
    document = _plain_flow(2)
    document["epcisBody"]["eventList"][-1]["quantityList"][0]["quantity"] = 500
    by_event, report_a = _captured(engine, document, 500, use_bulk=False, create=True, world=_nothing)
    in_bulk, report_b = _captured(engine, document, 500, use_bulk=True, create=True, world=_nothing)
    assert bulk_chunks == [False]
    assert report_a["counts"]["refused"] == 1
    assert report_b == report_a
    assert not differences(by_event, in_bulk), differences(by_event, in_bulk)


def test_a_record_found_under_a_second_identifier_is_forgotten_with_the_chunk_that_created_it(engine, bulk_chunks):
    # FLOUR is created by its GTIN, then found by its SKU (urn:lotline:lot:FLOUR:...) in the same
    # chunk; the last shipment is short, so the chunk is tried again event by event (after the bulk
    # poster gave it up, and after the services' whole-chunk try), and the registry forgets both
    # identifiers with the rolled-back item: the retry posts all but the short shipment, both ways
    vocab = {"epcisMasterData": {"vocabularyList": [{"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": [
        {"id": identifiers.lot_class(gtin=GTIN_FLOUR, cp_len=7, sku="FLOUR", lot=None),
         "attributes": [{"id": "urn:lotline:mda:sku", "attribute": "FLOUR"}, {"id": "urn:lotline:mda:uom", "attribute": "kg"}]}]}]}}
    here, mill = {"id": PLACES[0]}, [{"type": "owning_party", "source": VENDORS[0]}]
    shop = [{"type": "owning_party", "destination": CUSTOMERS[0]}]
    events = [
        event("ObjectEvent", _when(1), action="ADD", bizStep="receiving", bizLocation=here,
              quantityList=[qty(lgtin(GTIN_FLOUR, "L1"), 100)], sourceList=mill),
        event("ObjectEvent", _when(2), action="ADD", bizStep="receiving", bizLocation=here,
              quantityList=[qty("urn:lotline:lot:FLOUR:L2", 100)], sourceList=mill),
        event("ObjectEvent", _when(3), action="OBSERVE", bizStep="shipping", bizLocation=here,
              quantityList=[qty("urn:lotline:lot:FLOUR:L2", 5)], destinationList=shop),
        event("ObjectEvent", _when(4), action="OBSERVE", bizStep="shipping", bizLocation=here,
              quantityList=[qty(lgtin(GTIN_FLOUR, "L1"), 500)], destinationList=shop),
    ]
    for n, ev in enumerate(events):
        ev["eventID"] = f"urn:uuid:88888888-0000-4000-8000-{n:012d}"
    document = doc(*events, header=vocab)
    by_event, report_a = _captured(engine, document, 500, use_bulk=False, create=True, world=_nothing)
    in_bulk, report_b = _captured(engine, document, 500, use_bulk=True, create=True, world=_nothing)
    assert bulk_chunks == [False]
    assert report_a == report_b
    assert report_a["counts"]["refused"] == 1 and report_a["counts"]["posted"] == 3
    assert not differences(by_event, in_bulk), differences(by_event, in_bulk)
