"""lotline's EPCIS validator agrees with the GS1 JSON schema: on the shared documents and on mutations."""

from __future__ import annotations

import copy
import io
import json

import pytest

from lotline.epcis import document, validate
from tests.epcis.conftest import SHARED, need_shared, shared_docs


def problems_of(doc: dict) -> list[str]:
    raw = json.dumps(doc).encode()
    header = document.read_header(lambda: io.BytesIO(raw))
    found = validate.document_problems(header.members)
    if not header.has_event_list:
        found.append("epcisBody.eventList is required")
    for i, event in enumerate(document.iter_events(lambda: io.BytesIO(raw))):
        found += [f"event {i}: {p}" for p in validate.event_problems(event)]
    return found


def load(path) -> dict:
    return json.loads(path.read_text())


def test_the_shared_folder_is_there_or_the_tests_say_so():
    need_shared()
    assert shared_docs("valid") and shared_docs("invalid"), f"no documents under {SHARED}"


@pytest.mark.parametrize("path", shared_docs("valid"), ids=lambda p: p.name)
def test_every_valid_shared_document_passes_both_validators(path, gs1_validator):
    doc = load(path)
    assert list(gs1_validator.iter_errors(doc)) == []
    assert problems_of(doc) == []


EXPECTED = {
    "EPCISDocument_without_context.json": "@context is required",
    "ObjectEvent_with_invalid_action.json": "action: 'CREATE' is not one of OBSERVE, ADD, DELETE",
    "ObjectEvent_with_invalid_eventTime_format.json": "eventTime: '22-07-2026' is not an RFC 3339 date-time",
    "ObjectEvent_with_non_standard_disposition.json": "disposition: 'in_transport' is not a standard CBV disposition",
    "ObjectEvent_with_quantity_as_text.json": "quantityList[0].quantity: 'twenty' is not a number",
    "ObjectEvent_without_identifier_list.json": "an ObjectEvent needs an epcList or a non-empty quantityList",
}


@pytest.mark.parametrize("path", shared_docs("invalid"), ids=lambda p: p.name)
def test_every_invalid_shared_document_is_refused_naming_its_problem(path, gs1_validator):
    doc = load(path)
    assert list(gs1_validator.iter_errors(doc)) != []
    found = problems_of(doc)
    assert any(EXPECTED[path.name] in p for p in found), found


# Mutations of valid events: (description, function changing the event in place). Each is applied to
# every event of every valid shared document it fits; both validators must give the same verdict.
MUTATIONS = [
    ("drop eventTime", lambda e: e.pop("eventTime", None)),
    ("drop eventTimeZoneOffset", lambda e: e.pop("eventTimeZoneOffset", None)),
    ("bad offset", lambda e: e.__setitem__("eventTimeZoneOffset", "+2:00")),
    ("offset 14:30", lambda e: e.__setitem__("eventTimeZoneOffset", "+14:30")),
    ("date only", lambda e: e.__setitem__("eventTime", "2020-01-01")),
    ("no timezone", lambda e: e.__setitem__("eventTime", "2020-01-01T10:00:00")),
    ("month 13", lambda e: e.__setitem__("eventTime", "2020-13-01T10:00:00Z")),
    ("unknown member", lambda e: e.__setitem__("colour", "red")),
    ("extension member", lambda e: e.__setitem__("acme:colour", "red")),
    ("bizStep word", lambda e: e.__setitem__("bizStep", "teleporting")),
    ("bizStep CBV 1.2 URN", lambda e: e.__setitem__("bizStep", "urn:epcglobal:cbv:bizstep:receiving")),
    ("bizStep own URI", lambda e: e.__setitem__("bizStep", "https://example.com/steps/baking")),
    ("disposition number", lambda e: e.__setitem__("disposition", 7)),
    ("eventID not URI", lambda e: e.__setitem__("eventID", "not a uri")),
    ("type unknown word", lambda e: e.__setitem__("type", "ShippingEvent")),
    ("action lower", lambda e: "action" in e and e.__setitem__("action", "add")),
    ("drop action", lambda e: e.pop("action", None)),
    ("quantity bool", lambda e: e.get("quantityList") and e["quantityList"][0].__setitem__("quantity", True)),
    ("uom lower", lambda e: e.get("quantityList") and e["quantityList"][0].__setitem__("uom", "kg")),
    ("quantity element extra", lambda e: e.get("quantityList") and e["quantityList"][0].__setitem__("lot", "A")),
    ("readPoint without id", lambda e: "readPoint" in e and e.__setitem__("readPoint", {})),
    ("source without type", lambda e: e.get("sourceList") and e["sourceList"][0].pop("type")),
    ("bizTransaction missing", lambda e: e.get("bizTransactionList") and e["bizTransactionList"][0].pop("bizTransaction")),
    ("bizTransaction type word", lambda e: e.get("bizTransactionList") and e["bizTransactionList"][0].__setitem__("type", "order")),
    ("epcList duplicate", lambda e: e.get("epcList") and e["epcList"].append(e["epcList"][0])),
    ("epcList not list", lambda e: "epcList" in e and e.__setitem__("epcList", "urn:epc:id:sgtin:1.2.3")),
    ("ilmd on OBSERVE", lambda e: e.__setitem__("ilmd", {"cbvmda:lotNumber": "X"}) or e.__setitem__("action", "OBSERVE")),
    ("ilmd plain key", lambda e: e.__setitem__("ilmd", {"lotNumber": "X"})),
    ("errorDeclaration without time", lambda e: e.__setitem__("errorDeclaration", {"reason": "incorrect_data"})),
    ("errorDeclaration bad reason", lambda e: e.__setitem__("errorDeclaration", {"declarationTime": "2020-01-01T00:00:00Z", "reason": "oops"})),
    ("persistentDisposition empty", lambda e: e.__setitem__("persistentDisposition", {})),
    ("drop inputs", lambda e: e.pop("inputEPCList", None) or e.pop("inputQuantityList", None)),
    ("drop transformationID", lambda e: e.pop("transformationID", None)),
    ("drop bizTransactionList", lambda e: e.get("type") == "TransactionEvent" and e.pop("bizTransactionList")),
    ("drop childEPCs", lambda e: e.pop("childEPCs", None)),
    ("sensor report without type", lambda e: e.get("sensorElementList") and e["sensorElementList"][0]["sensorReport"][0].pop("type")),
    ("sensor value text", lambda e: e.get("sensorElementList") and e["sensorElementList"][0]["sensorReport"][0].__setitem__("value", "hot")),
    ("certificationInfo list", lambda e: e.__setitem__("certificationInfo", ["https://example.com/c/1", "nope"])),
]
DOC_MUTATIONS = [
    ("drop schemaVersion", lambda d: d.pop("schemaVersion")),
    ("version text", lambda d: d.__setitem__("schemaVersion", "two")),
    ("drop creationDate", lambda d: d.pop("creationDate")),
    ("unknown top member", lambda d: d.__setitem__("note", "x")),
    ("context number", lambda d: d.__setitem__("@context", 5)),
    ("sender number", lambda d: d.__setitem__("sender", 5)),
]


def _cases():
    for path in shared_docs("valid"):
        doc = load(path)
        for i in range(len(doc["epcisBody"]["eventList"])):
            for name, fn in MUTATIONS:
                yield pytest.param(path, i, fn, id=f"{path.stem}-{i}-{name}")


@pytest.mark.parametrize(("path", "index", "mutate"), list(_cases()))
def test_a_mutated_event_gets_the_same_verdict_from_both_validators(path, index, mutate, gs1_validator):
    doc = load(path)
    event = doc["epcisBody"]["eventList"][index]
    before = copy.deepcopy(event)
    mutate(event)
    if event == before:
        pytest.skip("mutation does not apply to this event")
    gs1_ok = not list(gs1_validator.iter_errors(doc))
    ours = problems_of(doc)
    assert gs1_ok == (ours == []), ours


@pytest.mark.parametrize(("name", "mutate"), DOC_MUTATIONS, ids=[m[0] for m in DOC_MUTATIONS])
def test_a_mutated_document_gets_the_same_verdict_from_both_validators(name, mutate, gs1_validator):
    doc = load(shared_docs("valid")[0])
    mutate(doc)
    gs1_ok = not list(gs1_validator.iter_errors(doc))
    assert gs1_ok == (problems_of(doc) == [])


def test_a_document_that_is_not_json_is_refused_with_the_parser_message():
    from lotline.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not valid JSON"):
        document.read_header(lambda: io.BytesIO(b'{"type": "EPCISDocument", "epcisBody": {"eventList": [ {'))
