"""CLI, HTTP and SVG front ends of the trace engine over one small genealogy."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
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


@pytest.fixture
def bakery(session):
    flour, salt = make_item(session, "FLOUR"), make_item(session, "SALT")
    dough, bread = make_item(session, "DOUGH"), make_item(session, "BREAD", uom="ea")
    wh = make_location(session, "WH1")
    make_vendor(session, "MILL")
    shop = make_customer(session, "SHOP")
    receive(session, flour, wh, "F-1", 100, vendor_lot_code="MV-88")
    receive(session, salt, wh, "S-1", 10)
    receive(session, salt, wh, "F-1X", 10)
    execute(
        session,
        "WO-1",
        dough,
        [(flour, wh, 40, [("F-1", 40)]), (salt, wh, 1, [("S-1", 1)])],
        [(wh, 40, "D-1")],
    )
    execute(
        session,
        "WO-2",
        bread,
        [(dough, wh, 40, [("D-1", 40)])],
        [(wh, 80, "B-1"), (wh, 20, "B-2")],
        when=at(2),
    )
    order(session, "SO-1", shop, [(bread, 30, None)])
    ship(session, "SO-1", [(1, wh, 30, [("B-1", 30)])], when=at(3))
    lots_service.change_status(
        session, lots_service.find_lot(session, "B-2"), LotStatusChange(status="blocked", reason="test")
    )
    session.flush()
    return session


def test_cli_forward_json_lists_lots_and_shipments(cli, bakery):
    r = cli("trace", "forward", "F-1", "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert {(x["lot_code"], x["role"], x["depth"]) for x in doc["lots"]} == {
        ("F-1", "target", 0),
        ("D-1", "downstream_finished", 1),
        ("B-1", "downstream_finished", 2),
        ("B-2", "downstream_finished", 2),
    }
    assert [(s["customer_id"] is not None, s["quantity"]) for s in doc["shipments"]] == [(True, "30")]
    assert {"lot_id", "lot_code", "item_id", "role", "depth"} <= set(doc["lots"][0])
    assert {"sales_order_shipment_id", "customer_id"} <= set(doc["shipments"][0])
    assert doc["on_hand"] and doc["mass_balance"]


def test_cli_tree_shows_the_path_and_the_customer(cli, bakery):
    r = cli("trace", "both", "D-1")
    assert r.code == 0, r.err
    out = r.out
    for text in ("used in", "made from", "B-1", "F-1", "S-1", "SHOP", "blocked", "Mass balance"):
        assert text in out, text


def test_cli_csv_is_one_sortable_sheet(cli, bakery):
    r = cli("trace", "backward", "B-1", "--csv")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    kinds = {row["record"] for row in rows}
    assert {"lot", "edge", "receipt", "shipment", "on_hand"} <= kinds
    receipt = next(row for row in rows if row["record"] == "receipt" and row["lot_code"] == "F-1")
    assert (receipt["vendor_code"], receipt["vendor_lot_code"], receipt["quantity"]) == (
        "MILL",
        "MV-88",
        "100",
    )


def test_cli_writes_an_svg_graph_with_blocked_lots_marked(cli, bakery, tmp_path):
    target = tmp_path / "g.svg"
    r = cli("trace", "forward", "F-1", "--svg", str(target))
    assert r.code == 0, r.err
    svg = target.read_text()
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"F-1", "D-1", "B-1", "B-2"} <= set(texts)
    assert "BLOCKED" in texts
    assert "40 → 40" in texts  # quantities on the edge F-1 -> D-1
    assert len([p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("marker-end")]) == 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("trace", "forward", "NOPE"), 4, "unknown lot 'NOPE'"),
        (("trace", "forward", "F-1", "--as-of", "yesterday-ish"), 2, "not an ISO 8601"),
        (("trace", "forward", "F-1", "--as-of", "2999-01-01"), 2, "in the future"),
        (("trace", "forward", "F-1", "--max-depth", "-1"), 2, "max_depth must be 0 or more"),
        (("trace", "forward", "F-1", "--item", "NOSUCH"), 4, "unknown item 'NOSUCH'"),
    ],
)
def test_cli_errors_name_the_problem(cli, bakery, args, code, message):
    r = cli(*args)
    assert r.code == code, (r.out, r.err)
    assert message in r.err


def test_cli_ambiguous_lot_code_needs_the_sku(cli, bakery):
    yeast = make_item(bakery, "YEAST")
    receive(bakery, yeast, make_location(bakery, "WH2"), "S-1", 5)  # SALT also has a lot S-1
    bakery.flush()
    r = cli("trace", "forward", "S-1")
    assert r.code == 2 and "several items" in r.err
    r = cli("trace", "forward", "S-1", "--item", "YEAST", "--json")
    assert r.code == 0 and [x["sku"] for x in r.json()["lots"]] == ["YEAST"]


def test_api_trace_document_svg_csv_and_errors(client, bakery):
    r = client.get("/trace/forward/F-1")
    assert r.status_code == 200, r.text
    assert {x["lot_code"] for x in r.json()["lots"]} == {"F-1", "D-1", "B-1", "B-2"}
    r = client.get("/trace/backward/B-1", params={"as_of": at(1).isoformat()})
    assert r.status_code == 200 and [x["lot_code"] for x in r.json()["lots"]] == ["B-1"]  # made on day 2
    r = client.get("/trace/both/D-1/svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in r.text
    r = client.get("/trace/forward/F-1/csv")
    assert r.status_code == 200 and r.text.startswith("record,lot_id")
    lot_id = client.get("/trace/forward/F-1").json()["start_lot_ids"][0]
    r = client.post("/trace", json={"lot_ids": [lot_id], "direction": "forward", "with_stock": False})
    assert r.status_code == 200 and r.json()["mass_balance"] == []
    r = client.get("/trace/forward/F-1", params={"with_stock": "false"})
    assert r.status_code == 200 and r.json()["on_hand"] == [] and r.json()["shipments"]
    # errors: problem+json with the right status
    assert client.get("/trace/forward/NOPE").status_code == 404
    assert client.get("/trace/sideways/F-1").status_code == 422
    r = client.get("/trace/forward/F-1", params={"max_depth": -2})
    assert r.status_code == 422 and "max_depth" in r.text
    r = client.get("/trace/forward/F-1", params={"as_of": "soon"})
    assert r.status_code == 422 and "ISO 8601" in r.text


def test_cli_no_stock_skips_the_ledger_part(cli, bakery):
    doc = cli("trace", "forward", "F-1", "--no-stock", "--json").json()
    assert doc["mass_balance"] == [] and doc["receipts"] == [] and len(doc["shipments"]) == 1


def test_cli_refuses_two_output_formats(cli, bakery):
    r = cli("trace", "forward", "F-1", "--json", "--csv")
    assert r.code == 2 and "choose one of --json and --csv" in r.err
