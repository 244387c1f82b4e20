"""The trace routes: the service's document over HTTP, rendered once, typed in the OpenAPI, and
guarded like every other read (the credential checked on every request, never remembered)."""

from __future__ import annotations

import json
from decimal import Decimal

import anyio
import pytest
from fastapi.responses import JSONResponse

from lotline.api.trace_document import TraceDocument, render
from lotline.auth import service as auth_service
from lotline.db import session as db_session
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReturnIn
from lotline.lots import service as lots_service
from lotline.trace import service as trace
from tests.builders import (
    at,
    execute,
    make_customer,
    make_item,
    make_location,
    make_vendor,
    order,
    receive,
    ship,
)
from tests.conftest import TEST_PASSWORD

AS_OF = at(30)  # after every posting of the world, long before "now"


@pytest.fixture
def world(session):
    """Flour -> dough -> bread with a rework cycle, shipped to two customers (one with a name that
    is not ASCII), a return, a lot without vendor code or expiry, and a drifted balance row."""
    flour, salt = make_item(session, "FLOUR"), make_item(session, "SALT")
    dough, bread = make_item(session, "DOUGH"), make_item(session, "BREAD", uom="ea", shelf_life_days=3)
    wh, _quar = make_location(session, "WH1"), make_location(session, "QUAR", kind="quarantine")
    make_vendor(session, "MILL")
    shop = make_customer(session, "SHOP")
    deli = make_customer(session, "DELI")
    deli.name = "Bäckerei Müller — «Deli»"
    receive(session, flour, wh, "F-1", 100, vendor_lot_code="V-77")
    receive(session, salt, wh, "S-1", 10)
    execute(session, "WO-1", dough, [(flour, wh, 50, [("F-1", 50)]), (salt, wh, 1, [("S-1", 1)])],
            [(wh, 50, "D-1")])
    execute(session, "WO-2", bread, [(dough, wh, 40, [("D-1", 40)])], [(wh, 80, "B-1")], when=at(2))
    execute(session, "WO-3", dough, [(bread, wh, 10, [("B-1", 10)])], [(wh, 5, "D-1")], when=at(3))
    order(session, "SO-1", shop, [(bread, 30, None)])
    ship(session, "SO-1", [(1, wh, 30, [("B-1", 30)])], when=at(4))
    order(session, "SO-2", deli, [(bread, 12.5, None)])
    ship(session, "SO-2", [(1, wh, 12.5, [("B-1", 12.5)])], when=at(4, hours=2))
    inventory.return_goods(session, ReturnIn(customer="SHOP", occurred_at=at(5), lines=[
        {"item": "BREAD", "location": "QUAR", "quantity": Decimal(5), "lots": [{"lot": "B-1", "quantity": Decimal(5)}]}
    ]))
    session.flush()
    return {code: lots_service.find_lot(session, code) for code in ("F-1", "S-1", "D-1", "B-1")}


def _results(session, world):
    """Traces of the world in every direction, as of now and as of a time, with and without stock,
    bounded and not."""
    ids = [world["F-1"].id]
    out = []
    for direction in ("forward", "backward", "both"):
        for start in (ids, [world["D-1"].id], [world["F-1"].id, world["B-1"].id]):
            out.append(trace.trace(session, start, direction))
            out.append(trace.trace(session, start, direction, AS_OF, max_depth=1))
            out.append(trace.trace(session, start, direction, with_stock=False))
    return out


def test_the_rendered_body_is_byte_for_byte_what_json_response_sends_of_to_json(session, world):
    results = _results(session, world)
    assert any(r.cycles for r in results) and any(r.receipts for r in results)
    for result in results:
        assert render(result) == JSONResponse(result.to_json()).body


def test_a_drifted_balance_renders_as_an_imbalance_like_to_json(session, world, connection):
    session.flush()
    connection.exec_driver_sql("UPDATE inventory_balances SET quantity = quantity - 3 WHERE lot_id = %(id)s",
                               {"id": world["F-1"].id})
    result = trace.trace(session, [world["F-1"].id], "forward")
    document = json.loads(render(result))
    assert document == result.to_json()
    assert document["summary"]["imbalanced_lots"] == 1
    assert [m["balanced"] for m in document["mass_balance"] if m["lot_code"] == "F-1"] == [False]


def test_every_rendered_document_fits_the_response_model(session, world):
    for result in _results(session, world):
        TraceDocument.model_validate_json(render(result), strict=False)


def test_the_trace_route_answers_the_services_document(client, session, world):
    for direction in ("forward", "backward", "both"):
        response = client.get(f"/trace/{direction}/D-1", params={"as_of": AS_OF.isoformat()})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        expected = trace.trace(session, [world["D-1"].id], direction, AS_OF).to_json()
        assert response.json() == expected
    now = client.get("/trace/forward/F-1", params={"max_depth": 2, "with_stock": False}).json()
    expected = trace.trace(session, [world["F-1"].id], "forward", max_depth=2, with_stock=False).to_json()
    assert now["as_of_requested"] is False
    assert {**now, "as_of": None} == {**expected, "as_of": None}  # "now" is the moment each was taken


def test_posting_several_lots_answers_the_services_document(client, session, world):
    ids = [str(world["F-1"].id), str(world["S-1"].id)]
    response = client.post("/trace", json={"lot_ids": ids, "direction": "forward", "as_of": AS_OF.isoformat()})
    assert response.status_code == 200, response.text
    assert response.json() == trace.trace(session, [world["F-1"].id, world["S-1"].id], "forward", AS_OF).to_json()


def test_the_csv_and_svg_routes_answer_their_formats(client, world):
    csv = client.get("/trace/forward/F-1/csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "B-1" in csv.text and "Bäckerei Müller" in csv.text
    svg = client.get("/trace/both/D-1/svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") and "B-1" in svg.text


def test_the_openapi_types_the_trace_documents(client):
    spec = client.get("/openapi.json").json()
    for method, path in (("get", "/api/v1/trace/{direction}/{lot}"), ("post", "/api/v1/trace")):
        schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/TraceDocument"}
    document = spec["components"]["schemas"]["TraceDocument"]
    assert set(document["required"]) == set(TraceDocument.model_fields)
    shipment = spec["components"]["schemas"]["TracedShipmentOut"]["properties"]
    assert shipment["quantity"]["type"] == "string" and "pattern" in shipment["quantity"]
    for path in ("/api/v1/trace/{direction}/{lot}/csv", "/api/v1/trace/{direction}/{lot}/svg"):
        assert set(spec["paths"][path]["get"]["responses"]["200"]["content"]) <= {"text/csv", "image/svg+xml"}
        assert spec["paths"][path]["get"]["security"] == [{"bearer": []}, {"session": []}]


@pytest.mark.parametrize("method, path", [("GET", "/trace/forward/F-1"), ("GET", "/trace/forward/F-1/csv"),
                                          ("GET", "/trace/both/F-1/svg"), ("POST", "/trace")])
def test_a_trace_without_a_credential_is_401_problem_json(anonymous_client, world, method, path):
    body = {"lot_ids": [str(world["F-1"].id)]} if method == "POST" else None
    response = anonymous_client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_stops_tracing_at_the_next_request(client_as, session, world):
    viewer = client_as("viewer", name="vera")
    assert viewer.get("/trace/forward/F-1").status_code == 200
    [token] = auth_service.list_tokens(session, user="vera")
    auth_service.revoke_token(session, str(token["id"]))
    refused = viewer.get("/trace/forward/F-1")
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_a_disabled_user_stops_tracing_at_the_next_request(client_as, session, world):
    viewer = client_as("viewer", name="dora")
    assert viewer.get("/trace/backward/B-1").status_code == 200
    auth_service.disable_user(session, "dora")
    session.flush()
    assert viewer.get("/trace/backward/B-1").status_code == 401


def test_a_session_cookie_traces_and_a_cookie_post_needs_its_csrf_token(make_user, anonymous_client, world):
    make_user("cora", "viewer")
    signed = anonymous_client.post("/auth/sign-in", json={"name": "cora", "password": TEST_PASSWORD})
    assert signed.status_code == 200, signed.text
    assert anonymous_client.get("/trace/forward/F-1").status_code == 200
    body = {"lot_ids": [str(world["F-1"].id)]}
    refused = anonymous_client.post("/trace", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_rejected"
    ok = anonymous_client.post("/trace", json=body, headers={"X-CSRF-Token": signed.json()["csrf_token"]})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("path, params, status, code", [
    ("/trace/forward/NOPE", {}, 404, "not_found"),
    ("/trace/sideways/F-1", {}, 422, "invalid_input"),
    ("/trace/forward/F-1", {"max_depth": -1}, 422, "invalid_input"),
    ("/trace/forward/F-1", {"as_of": "2999-01-01T00:00:00Z"}, 422, "invalid_input"),
    ("/trace/forward/F-1/csv", {"as_of": "yesterday-ish"}, 422, "invalid_input"),
])
def test_bad_trace_requests_are_problem_json(client, world, path, params, status, code):
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_a_trace_notes_its_tokens_last_use(client_as, session, world):
    viewer = client_as("viewer", name="lu")
    [before] = auth_service.list_tokens(session, user="lu")
    assert before["last_used_at"] is None
    assert viewer.get("/trace/forward/F-1").status_code == 200
    session.expire_all()
    [after] = auth_service.list_tokens(session, user="lu")
    assert after["last_used_at"] is not None


def test_a_trace_request_takes_one_worker_thread_hop_and_one_read_snapshot(client, world, monkeypatch):
    assert client.get("/trace/forward/F-1").status_code == 200  # the token's first use is noted now
    hops, boundaries = [], []
    real_run_sync, real_boundary = anyio.to_thread.run_sync, db_session._boundary

    async def run_sync(fn, *args, **kwargs):
        hops.append(fn)
        return await real_run_sync(fn, *args, **kwargs)

    def boundary(readonly, *args, **kwargs):
        boundaries.append("read snapshot" if readonly else "write")
        return real_boundary(readonly, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", run_sync)
    monkeypatch.setattr(db_session, "_boundary", boundary)
    assert client.get("/trace/forward/F-1").status_code == 200
    assert len(hops) == 1  # credential, permission, snapshot, trace and rendering: one hand-off
    assert boundaries == ["read snapshot"]  # the credential was checked inside it; no touch due yet


def test_a_lot_named_by_id_answers_what_its_code_answers_on_every_route(client, world):
    params = {"as_of": AS_OF.isoformat()}
    for lot in ("F-1", "D-1", "B-1"):
        for route in ("forward/{}", "backward/{}", "both/{}", "both/{}/csv", "forward/{}/svg"):
            by_code = client.get("/trace/" + route.format(lot), params=params)
            by_id = client.get("/trace/" + route.format(world[lot].id), params=params)
            assert by_code.status_code == by_id.status_code == 200, by_id.text
            assert by_id.content == by_code.content


def test_an_id_that_is_no_lots_is_still_tried_as_a_lot_code(client, session, world):
    """A lot code may look like a UUID: the id path must fall back to the code, as resolve_lot does."""
    code = "0b6f1c1e-4e0b-4b4e-9a59-6f3f0d0e2a11"
    receive(session, make_item(session, "YEAST"), make_location(session, "WH2"), code, 3)
    session.flush()
    lot = lots_service.find_lot(session, code)
    assert str(lot.id) != code
    response = client.get(f"/trace/forward/{code}", params={"as_of": AS_OF.isoformat()})
    assert response.status_code == 200, response.text
    assert response.json() == trace.trace(session, [lot.id], "forward", AS_OF).to_json()


def test_an_unknown_id_is_404_with_resolve_lots_message(client, world):
    unknown = "6d1bd3e4-5b0c-4d07-8f4f-3b9c8d2f0e77"
    response = client.get(f"/trace/forward/{unknown}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"] == f"unknown lot {unknown!r}"
