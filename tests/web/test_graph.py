"""The trace view's graph (grouping under a node budget, server-side positions), without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from lotline.trace.model import TracedLot, TracedShipment, TraceEdge, TraceResult
from lotline.web import graph

T = datetime(2026, 1, 5, tzinfo=UTC)


def _lot(code: str, sku: str, role: str, depth: int) -> TracedLot:
    return TracedLot(uuid.uuid5(uuid.NAMESPACE_URL, code), code, uuid.uuid5(uuid.NAMESPACE_URL, sku), sku, sku.title(),
                     "kg", "active", role, depth, None, None)


def _world(n_bread: int = 3, n_customers: int = 2) -> TraceResult:
    """SALT S-0 upstream of flour F-1 (target) -> DOUGH D-1 -> BREAD B-1..n, each shipped to every customer."""
    salt, flour = _lot("S-0", "SALT", "upstream_component", 1), _lot("F-1", "FLOUR", "target", 0)
    dough = _lot("D-1", "DOUGH", "downstream_finished", 1)
    breads = [_lot(f"B-{i}", "BREAD", "downstream_finished", 2) for i in range(1, n_bread + 1)]
    wo = uuid.uuid4()
    edges = [TraceEdge(a.lot_id, b.lot_id, wo, Decimal(1), Decimal(1), T)
             for a, b in [(salt, dough), (flour, dough)] + [(dough, b) for b in breads]]
    ships = [TracedShipment(uuid.uuid4(), uuid.uuid4(), f"SO-{b.lot_code}-{c}", uuid.uuid5(uuid.NAMESPACE_URL, f"C{c}"),
                            f"C{c}", f"Customer {c}", T, b.lot_id, b.item_id, b.sku, Decimal(1), "kg")
             for b in breads for c in range(n_customers)]
    return TraceResult((flour.lot_id,), "both", T, None, [flour, salt, dough, *breads], edges, ships, [], [], [], [])


def _nodes(data: dict) -> dict[str, dict]:
    return {e["data"]["id"]: e for e in data["elements"] if "source" not in e["data"]}


def test_under_its_budget_every_lot_and_customer_is_a_node_and_dagre_lays_it_out():
    data = graph.elements(_world())
    kinds = sorted(e["data"]["kind"] for e in _nodes(data).values())
    assert kinds == ["customer"] * 2 + ["lot"] * 6
    assert (data["collapsed"], data["positioned"]) == (False, False)
    assert all("position" not in e for e in data["elements"])


def test_above_its_budget_lots_group_by_item_depth_and_role_but_the_target_stays_a_lot():
    data = graph.elements(_world(), budget=5)
    nodes = _nodes(data)
    assert data["collapsed"] and data["nodes"] == len(nodes) == 5
    assert {i for i, e in nodes.items() if e["data"]["kind"] == "group"} == {
        "g:SALT:1:upstream_component", "g:DOUGH:1:downstream_finished", "g:BREAD:2:downstream_finished"}
    assert nodes["g:BREAD:2:downstream_finished"]["data"]["label"] == "BREAD ×3 (depth 2)"
    assert nodes["c:g:BREAD:2:downstream_finished"]["data"]["label"] == "2 customers"
    assert [e["data"]["label"] for e in nodes.values() if e["data"]["kind"] == "lot"] == ["F-1"]


def test_an_expanded_group_shows_its_lots_and_their_customers_one_by_one():
    data = graph.elements(_world(), budget=5, expand={"g:BREAD:2:downstream_finished"})
    nodes = _nodes(data)
    assert sorted(e["data"]["label"] for e in nodes.values() if e["data"]["kind"] == "lot") == [
        "B-1", "B-2", "B-3", "F-1"]
    assert sum(1 for e in nodes.values() if e["data"]["kind"] == "customers") == 3
    assert data["expanded"] == ["g:BREAD:2:downstream_finished"]


def test_a_collapsed_graph_comes_laid_out_left_to_right_by_depth_with_customers_after_their_lots():
    nodes = _nodes(graph.elements(_world(), budget=5))
    x = {i: e["position"]["x"] for i, e in nodes.items()}
    assert x["g:SALT:1:upstream_component"] < x[next(i for i in nodes if i.startswith("l:"))]
    assert x[next(i for i in nodes if i.startswith("l:"))] < x["g:DOUGH:1:downstream_finished"]
    assert x["g:DOUGH:1:downstream_finished"] < x["g:BREAD:2:downstream_finished"]
    assert x["g:BREAD:2:downstream_finished"] < x["c:g:BREAD:2:downstream_finished"]


def test_a_big_graph_is_laid_out_on_the_server_every_node_in_a_place_of_its_own_and_tall_columns_split():
    data = graph.elements(_world(n_bread=60, n_customers=1), budget=1000)
    nodes = _nodes(data)
    assert not data["collapsed"] and data["positioned"] and len(nodes) == 64
    places = [(e["position"]["x"], e["position"]["y"]) for e in nodes.values()]
    assert len(set(places)) == len(places)
    bread_columns = {e["position"]["x"] for e in nodes.values() if e["data"].get("sku") == "BREAD"}
    assert len(bread_columns) == -(-60 // graph.MAX_ROWS)  # 60 breads in sub-columns of at most MAX_ROWS
    assert max(e["position"]["y"] for e in nodes.values()) - min(e["position"]["y"] for e in nodes.values()) \
        <= graph.MAX_ROWS * graph.ROW
