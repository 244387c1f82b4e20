"""The HTTP API: the same services, RFC 9457 problem+json errors from one mapping table."""

import pytest


@pytest.fixture
def master(client):
    for path, body in [
        ("/items", {"sku": "FLOUR", "name": "Flour", "uom": "kg"}),
        ("/items", {"sku": "BREAD", "name": "Bread", "uom": "ea", "shelf_life_days": 3}),
        ("/locations", {"code": "WH", "name": "Warehouse"}),
        ("/locations", {"code": "QA", "name": "Quarantine", "kind": "quarantine"}),
        ("/vendors", {"code": "MILL", "name": "Mill"}),
        ("/customers", {"code": "SHOP", "name": "Shop", "contact_email": "shop@example.com"}),
    ]:
        r = client.post(path, json=body)
        assert r.status_code == 201, r.text


def receipt(qty="100", lot="F-1", ref=None):
    body = {
        "vendor": "MILL",
        "occurred_at": "2026-01-05T08:00:00Z",
        "lines": [{"item": "FLOUR", "location": "WH", "quantity": qty, "lots": [{"lot_code": lot, "quantity": qty}]}],
    }
    if ref:
        body["external_ref"] = ref
    return body


def test_openapi_documents_the_endpoints(client):
    spec = client.get("/openapi.json").json()
    for path in ["/items", "/receipts", "/transfers", "/stock", "/lots/{ref}", "/sales-orders/{ref}/shipments",
                 "/work-orders/{ref}/executions", "/movements/{movement_id}/reverse", "/health"]:
        assert f"/api/v1{path}" in spec["paths"], path


def test_receipt_is_idempotent_by_external_reference(client, master):
    first = client.post("/receipts", json=receipt(ref="PO-1"))
    assert first.status_code == 201
    again = client.post("/receipts", json=receipt(ref="PO-1"))
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"] is True
    stock = client.get("/stock", params={"item": "FLOUR"}).json()["items"]
    assert [s["quantity"] for s in stock] == ["100"]


def test_full_flow_production_and_shipment(client, master):
    client.post("/receipts", json=receipt())
    assert client.post("/work-orders", json={"number": "WO-1", "item": "BREAD", "planned_quantity": 10}).status_code == 201
    r = client.post(
        "/work-orders/WO-1/executions",
        json={"occurred_at": "2026-01-06T08:00:00Z", "consume": [{"item": "FLOUR", "location": "WH", "quantity": 5}],
              "produce": [{"location": "WH", "quantity": 10, "lot_code": "B-1"}]},
    )
    assert r.status_code == 201, r.text
    r = client.post("/sales-orders", json={"number": "SO-1", "customer": "SHOP",
                                           "lines": [{"item": "BREAD", "quantity": 4, "due_date": "2026-01-08"}]})
    assert r.status_code == 201, r.text
    r = client.post("/sales-orders/SO-1/shipments", json={"shipped_at": "2026-01-07T08:00:00Z",
                                                          "lines": [{"line_no": 1, "location": "WH", "quantity": 4}]})
    assert r.status_code == 201, r.text
    assert client.get("/lots/B-1").json()["on_hand"][0]["quantity"] == "6"


def test_unknown_reference_is_404_problem_json(client, master):
    r = client.get("/lots/NOPE")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "not_found" and "NOPE" in body["detail"] and body["status"] == 404


@pytest.mark.parametrize(
    "quantity",
    ["NaN", "Infinity", "1e12", "0", "-5", "0.0000001", "abc", None, True],
)
def test_bad_quantities_are_422_and_nothing_is_written(client, master, quantity):
    body = receipt()
    body["lines"][0]["quantity"] = quantity
    r = client.post("/receipts", json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
    assert any(e["loc"][-1] == "quantity" for e in r.json()["errors"])
    assert client.get("/movements").json()["items"] == []


def test_nan_literal_in_json_is_refused(client, master):
    raw = '{"vendor":"MILL","lines":[{"item":"FLOUR","location":"WH","quantity":NaN,"lots":[]}]}'
    r = client.post("/receipts", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422


@pytest.mark.parametrize(
    "field,value",
    [("sku", ""), ("sku", "x" * 65), ("name", "   "), ("uom", "y" * 17), ("shelf_life_days", 0), ("standard_cost", -1)],
)
def test_bad_item_fields_are_422_naming_the_field(client, field, value):
    body = {"sku": "OK", "name": "Ok", field: value}
    r = client.post("/items", json=body)
    assert r.status_code == 422
    assert field in r.json()["detail"]


def test_unknown_fields_and_enum_values_are_refused(client):
    r = client.post("/locations", json={"code": "X", "name": "X", "kind": "garage"})
    assert r.status_code == 422 and "kind" in r.json()["detail"]
    r = client.post("/locations", json={"code": "X", "name": "X", "colour": "red"})
    assert r.status_code == 422 and "colour" in r.json()["detail"]


def test_duplicate_is_409(client, master):
    r = client.post("/items", json={"sku": "FLOUR", "name": "Again"})
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_key"


def test_rule_violation_is_422_with_the_lot_named(client, master):
    client.post("/receipts", json=receipt(qty="10"))
    r = client.post("/transfers", json={"item": "FLOUR", "from_location": "WH", "to_location": "QA", "quantity": 11,
                                        "lots": [{"lot": "F-1", "quantity": 11}]})
    assert r.status_code == 422
    assert r.json()["code"] == "insufficient_quantity"
    assert "lot F-1 of FLOUR has 10 kg at WH" in r.json()["detail"]


def test_illegal_state_change_is_409(client, master):
    client.post("/receipts", json=receipt())
    assert client.post("/lots/F-1/status", json={"status": "expired", "reason": "past date"}).status_code == 200
    r = client.post("/lots/F-1/status", json={"status": "active"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_state_transition"


def test_bad_path_and_query_parameters_are_422(client):
    # {movement_id:uuid}: a non-UUID names no route (so GET does not shadow POST /movements/batch)
    assert client.get("/movements/not-a-uuid").status_code == 404
    assert client.get("/movements", params={"limit": 0}).status_code == 422
    assert client.get("/movements", params={"movement_type": "teleport"}).status_code == 422


def test_a_batch_of_postings_is_one_transaction_naming_the_refused_document(client, master):
    docs = [
        {"kind": "receipt", "data": receipt("10", "F-9")},
        {"kind": "scrap", "data": {"item": "FLOUR", "location": "WH", "quantity": "4",
                                   "lots": [{"lot": "F-9", "quantity": "4"}], "occurred_at": "2026-01-06T08:00:00Z"}},
        {"kind": "scrap", "data": {"item": "FLOUR", "location": "WH", "quantity": "7",
                                   "lots": [{"lot": "F-9", "quantity": "7"}], "occurred_at": "2026-01-07T08:00:00Z"}},
    ]
    refused = client.post("/movements/batch", json={"documents": docs})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("document 3 (scrap): ")
    assert client.get("/lots", params={"item": "FLOUR"}).json()["items"] == []  # nothing of the batch was written

    posted = client.post("/movements/batch", json={"documents": docs, "atomic": False})
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert body["counts"] == {"posted": 2, "replayed": 0, "refused": 1}
    assert [r["outcome"] for r in body["results"]] == ["posted", "posted", "refused"]
    assert body["results"][2]["code"] == "insufficient_quantity"
