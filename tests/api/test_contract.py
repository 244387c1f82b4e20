"""The API contract: problem+json for every error, OPTIONS and Allow, one decimal form, cursor
pagination, response models and request schemas that say what validation accepts."""

import json
import re

import pytest

from lotline.api import pagination
from lotline.serialize import decimal_text
from lotline.types import DECIMAL_PATTERNS, ONE_LINE_PATTERN
from tests.api.test_api import master, receipt  # noqa: F401  (fixture and builder)

PROBLEM = "application/problem+json"


def _problem(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["code"] == code and body["type"] == f"urn:lotline:problem:{code}"
    return body


def test_a_body_that_is_not_json_is_a_400_problem(client):
    r = client.post("/items", content=b'{"sku": ', headers={"content-type": "application/json"})
    assert "not valid JSON" in _problem(r, 400, "malformed_json")["detail"]


def test_an_unknown_route_is_a_404_problem(client):
    assert "/api/v1/no-such-thing" in _problem(client.get("/no-such-thing"), 404, "no_route")["detail"]


def test_a_wrong_method_is_a_405_problem_with_every_allowed_method(client):
    r = client.delete("/items")
    _problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, OPTIONS, POST"


@pytest.mark.parametrize(
    "path,allow",
    [("/items", "GET, OPTIONS, POST"), ("/recalls/RC-1", "GET, OPTIONS, PATCH"),
     ("/recalls/RC-1/targets", "GET, OPTIONS, POST"), ("/inbound-recalls", "OPTIONS, POST"),
     ("/movements/batch", "OPTIONS, POST")],
)
def test_options_answers_204_with_the_methods_of_the_path(anonymous_client, path, allow):
    r = anonymous_client.options(path)
    assert r.status_code == 204 and r.headers["allow"] == allow


def test_every_operation_documents_its_errors_as_shared_problem_responses(client):
    spec = client.get("/openapi.json").json()
    shared = spec["components"]["responses"]
    assert shared["NotFound"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "Allow" in shared["MethodNotAllowed"]["headers"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["422"] == {"$ref": "#/components/responses/InvalidInput"}, (method, path)
            assert responses["404"] == {"$ref": "#/components/responses/NotFound"}, (method, path)
            if "requestBody" in operation:
                assert responses["400"] == {"$ref": "#/components/responses/MalformedJson"}, (method, path)


def test_listings_and_records_have_response_models_not_bare_objects(client):
    spec = client.get("/openapi.json").json()
    for path in ["/items", "/stock", "/lots", "/movements", "/recalls", "/sales-orders", "/work-orders", "/audit",
                 "/users", "/tokens", "/kpi/runs", "/recalls/{ref}/targets", "/recalls/{ref}/runs",
                 "/recalls/{ref}/actions", "/recalls/{ref}/communications", "/recalls/{ref}/consignees",
                 "/recalls/{ref}/responses", "/recalls/{ref}/effectiveness-checks", "/recalls/{ref}/status-reports",
                 "/kpi/runs/{run_id}/snapshots", "/lots/{ref}/history"]:
        schema = spec["paths"][f"/api/v1{path}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        page = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        assert set(page["required"]) == {"items", "has_more", "next_cursor"}, path
        assert "$ref" in page["properties"]["items"]["items"], path
    stock_row = spec["components"]["schemas"]["StockRow"]
    assert stock_row["properties"]["quantity"]["pattern"] == r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$"


def test_request_schemas_refuse_what_validation_refuses(client, master):  # noqa: F811
    spec = client.get("/openapi.json").json()
    quantity = spec["components"]["schemas"]["ReceiptLine"]["properties"]["quantity"]
    text_form = next(s for s in quantity["anyOf"] if s["type"] == "string")
    assert not re.match(text_form["pattern"], "") and re.match(text_form["pattern"], "2.5")
    body = receipt()
    body["lines"][0]["quantity"] = ""
    _problem(client.post("/receipts", json=body), 422, "invalid_input")
    assert client.get("/kpi/runs", params={"status": ""}).status_code == 422
    statuses = next(p for p in spec["paths"]["/api/v1/kpi/runs"]["get"]["parameters"] if p["name"] == "status")
    assert not re.match(statuses["schema"]["anyOf"][0]["pattern"], "")


@pytest.mark.parametrize("value,ok", [("2.5", True), ("0.000001", True), ("480.000000", True), (5, True),
                                      ("", False), ("0", False), ("1e3", False), ("007", False), (2.5, False)])
def test_a_quantity_is_a_decimal_string_or_an_integer(value, ok):
    pattern = re.compile(DECIMAL_PATTERNS["quantity"])
    from pydantic import TypeAdapter, ValidationError

    from lotline.types import Quantity

    try:
        TypeAdapter(Quantity).validate_python(value)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted is ok
    if isinstance(value, str):
        assert bool(pattern.match(value)) is ok


def test_one_line_pattern_refuses_control_characters_and_blank_text():
    pattern = re.compile(ONE_LINE_PATTERN)
    assert pattern.match("Flour 00") and not pattern.match("a\nb") and not pattern.match("   ")
    assert not pattern.match("a\x85b")


@pytest.mark.parametrize("text,expected", [("480.000000", "480"), ("0.500000", "0.5"), ("-0.000000", "0"),
                                           ("1E+3", "1000"), ("12.250", "12.25")])
def test_a_decimal_prints_in_one_form(text, expected):
    from decimal import Decimal

    assert decimal_text(Decimal(text)) == expected


def test_quantities_print_the_same_on_stock_trace_lots_and_the_cli(client, master, cli):  # noqa: F811
    client.post("/receipts", json=receipt(qty="480"))
    stock = client.get("/stock", params={"item": "FLOUR"}).json()["items"]
    assert [s["quantity"] for s in stock] == ["480"]
    trace = client.get("/trace/forward/F-1").json()
    assert json.dumps(trace).count('"480"') >= 1 and "480.000000" not in json.dumps(trace)
    assert client.get("/lots/F-1").json()["on_hand"][0]["quantity"] == "480"
    movement = client.get("/movements").json()["items"][0]
    assert client.get(f"/movements/{movement['id']}").json()["lines"][0]["lot_quantity"] == "480"
    r = cli("stock", "--item", "FLOUR", "--json")
    assert r.code == 0 and [s["quantity"] for s in r.json()] == ["480"]


def test_listings_page_with_a_cursor_and_a_link_to_the_next_page(client):
    for n in range(5):
        assert client.post("/locations", json={"code": f"L{n}", "name": f"Loc {n}"}).status_code == 201
    seen, cursor = [], None
    while True:
        r = client.get("/locations", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        body = r.json()
        seen += [x["code"] for x in body["items"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None and "link" not in r.headers
            break
        cursor = body["next_cursor"]
        link = r.headers["link"]
        assert link.endswith('>; rel="next"') and f"cursor={cursor}" in link and "limit=2" in link
    assert seen == ["L0", "L1", "L2", "L3", "L4"]


def test_a_cursor_from_another_listing_or_altered_is_invalid_input(client):
    cursor = pagination.encode("locations", ["L1"])
    _problem(client.get("/items", params={"cursor": cursor}), 422, "invalid_input")
    _problem(client.get("/locations", params={"cursor": cursor[:-2] + "xx"}), 422, "invalid_input")
    assert client.get("/locations", params={"cursor": cursor}).status_code == 200


@pytest.mark.parametrize("limit", [0, pagination.MAX_LIMIT + 1])
def test_a_page_size_is_bounded(client, limit):
    _problem(client.get("/stock", params={"limit": limit}), 422, "invalid_input")


def test_stock_beyond_one_page_is_not_silently_cut(client, master):  # noqa: F811
    for n in range(3):
        client.post("/receipts", json=receipt(qty="1", lot=f"F-{n}"))
    first = client.get("/stock", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["has_more"] is True
    rest = client.get("/stock", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [s["lot_code"] for s in first["items"] + rest["items"]] == ["F-0", "F-1", "F-2"]
    assert rest["has_more"] is False
