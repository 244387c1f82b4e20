"""Hand-built genealogies posted through the real services, with answers worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lotline.errors import InvalidInput, NotFound
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReturnIn, TransferIn
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


def lot(session, code, sku=None):
    return lots_service.find_lot(session, code, item_ref=sku)


def roles(result) -> dict[tuple[str, str], int]:
    """{(lot_code, role): depth} — the shape a person checks by hand."""
    return {(x.lot_code, x.role): x.depth for x in result.lots}


def edge_set(result, session) -> set[tuple[str, str, str, str]]:
    codes = {x.lot_id: x.lot_code for x in result.lots}
    return {
        (
            codes[e.parent_lot_id],
            codes[e.child_lot_id],
            trace.format_quantity(e.consumed_quantity),
            trace.format_quantity(e.produced_quantity),
        )
        for e in result.edges
    }


def q(x) -> Decimal:
    return Decimal(str(x))


@pytest.fixture
def world(session):
    """Items, locations, a vendor and two customers shared by the scenarios."""
    w = {
        "flour": make_item(session, "FLOUR"),
        "salt": make_item(session, "SALT"),
        "dough": make_item(session, "DOUGH"),
        "bread": make_item(session, "BREAD", uom="ea"),
        "wh": make_location(session, "WH1"),
        "wh2": make_location(session, "WH2"),
        "quar": make_location(session, "QUAR", kind="quarantine"),
        "mill": make_vendor(session, "MILL"),
        "shop": make_customer(session, "SHOP"),
        "deli": make_customer(session, "DELI"),
    }
    return w


def test_chain_forward_reaches_every_descendant_and_its_customer(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    execute(session, "WO-1", w["dough"], [(w["flour"], w["wh"], 40, [("F-1", 40)])], [(w["wh"], 60, "D-1")])
    execute(
        session,
        "WO-2",
        w["bread"],
        [(w["dough"], w["wh"], 60, [("D-1", 60)])],
        [(w["wh"], 120, "B-1")],
        when=at(2),
    )
    order(session, "SO-1", w["shop"], [(w["bread"], 50, None)])
    ship(session, "SO-1", [(1, w["wh"], 50, [("B-1", 50)])], when=at(3))

    result = trace.trace(session, [lot(session, "F-1").id], "forward")

    assert roles(result) == {
        ("F-1", "target"): 0,
        ("D-1", "downstream_finished"): 1,
        ("B-1", "downstream_finished"): 2,
    }
    assert edge_set(result, session) == {("F-1", "D-1", "40", "60"), ("D-1", "B-1", "60", "120")}
    assert [(s.sales_order_number, s.customer_code, s.quantity) for s in result.shipments] == [
        ("SO-1", "SHOP", q(50))
    ]
    assert result.cycles == []
    # backward from the bread: every component, ending at the receipt with its vendor
    back = trace.trace(session, [lot(session, "B-1").id], "backward")
    assert roles(back) == {
        ("B-1", "target"): 0,
        ("D-1", "upstream_component"): 1,
        ("F-1", "upstream_component"): 2,
    }
    assert [(r.movement_type, r.vendor_code, r.quantity) for r in back.receipts] == [
        ("receipt", "MILL", q(100))
    ]
    # the bread's own shipment shows on a backward trace too (targets' shipments always do)
    assert [s.customer_code for s in back.shipments] == ["SHOP"]


def test_diamond_lists_the_merged_lot_once_at_its_shortest_depth(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    execute(session, "WO-1", w["dough"], [(w["flour"], w["wh"], 30, [("F-1", 30)])], [(w["wh"], 30, "D-1")])
    execute(session, "WO-2", w["dough"], [(w["flour"], w["wh"], 20, [("F-1", 20)])], [(w["wh"], 20, "D-2")])
    execute(
        session,
        "WO-3",
        w["bread"],
        [(w["dough"], w["wh"], 50, [("D-1", 30), ("D-2", 20)])],
        [(w["wh"], 100, "B-1")],
        when=at(2),
    )
    f1 = lot(session, "F-1").id

    fwd = trace.trace(session, [f1], "forward")
    assert roles(fwd) == {
        ("F-1", "target"): 0,
        ("D-1", "downstream_finished"): 1,
        ("D-2", "downstream_finished"): 1,
        ("B-1", "downstream_finished"): 2,  # reached by two paths, listed once
    }
    assert len(fwd.edges) == 4

    back = trace.trace(session, [lot(session, "B-1").id], "backward")
    assert roles(back) == {
        ("B-1", "target"): 0,
        ("D-1", "upstream_component"): 1,
        ("D-2", "upstream_component"): 1,
        ("F-1", "upstream_component"): 2,
    }
    assert sorted(edge_set(back, session)) == [
        ("D-1", "B-1", "30", "100"),
        ("D-2", "B-1", "20", "100"),
        ("F-1", "D-1", "30", "30"),
        ("F-1", "D-2", "20", "20"),
    ]

    # a later execution tops B-1 up with flour directly: the shortest path is now one hop
    execute(
        session,
        "WO-4",
        w["bread"],
        [(w["flour"], w["wh"], 5, [("F-1", 5)])],
        [(w["wh"], 10, "B-1")],
        when=at(3),
    )
    assert roles(trace.trace(session, [f1], "forward"))[("B-1", "downstream_finished")] == 1


def test_split_and_merge_link_every_input_to_every_output_of_the_execution(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    receive(session, w["salt"], w["wh"], "S-1", 10)
    execute(
        session,
        "WO-1",
        w["dough"],
        [(w["flour"], w["wh"], 60, [("F-1", 60)]), (w["salt"], w["wh"], 2, [("S-1", 2)])],
        [(w["wh"], 40, "D-A"), (w["wh2"], 22, "D-B")],
    )

    fwd = trace.trace(session, [lot(session, "S-1").id], "forward")
    assert roles(fwd) == {
        ("S-1", "target"): 0,
        ("D-A", "downstream_finished"): 1,
        ("D-B", "downstream_finished"): 1,
    }
    back = trace.trace(session, [lot(session, "D-B").id], "backward")
    assert roles(back) == {
        ("D-B", "target"): 0,
        ("F-1", "upstream_component"): 1,
        ("S-1", "upstream_component"): 1,
    }
    assert edge_set(back, session) == {("F-1", "D-B", "60", "22"), ("S-1", "D-B", "2", "22")}
    # several targets at once: the union, each start lot a target
    both = trace.trace(session, [lot(session, "F-1").id, lot(session, "S-1").id], "forward")
    assert roles(both) == {
        ("F-1", "target"): 0,
        ("S-1", "target"): 0,
        ("D-A", "downstream_finished"): 1,
        ("D-B", "downstream_finished"): 1,
    }
    assert len(both.edges) == 4


def test_transfer_keeps_the_lot_and_moves_its_on_hand(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    inventory.transfer(
        session,
        TransferIn(
            item="FLOUR", from_location="WH1", to_location="WH2", quantity=q(70), occurred_at=at(0, 2)
        ),
    )
    execute(session, "WO-1", w["dough"], [(w["flour"], w["wh2"], 50, [("F-1", 50)])], [(w["wh2"], 50, "D-1")])

    result = trace.trace(session, [lot(session, "F-1").id], "both")
    assert roles(result) == {("F-1", "target"): 0, ("D-1", "downstream_finished"): 1}
    stock = {(x.lot_code, x.location_code): x.quantity for x in result.on_hand}
    assert stock == {("F-1", "WH1"): q(30), ("F-1", "WH2"): q(20), ("D-1", "WH2"): q(50)}
    flour = next(m for m in result.mass_balance if m.lot_code == "F-1")
    assert (flour.received, flour.consumed, flour.transfer_net, flour.on_hand, flour.imbalance) == (
        q(100),
        q(50),
        q(0),
        q(50),
        q(0),
    )


def test_a_return_shows_in_receipts_on_hand_and_mass_balance(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    execute(session, "WO-1", w["bread"], [(w["flour"], w["wh"], 40, [("F-1", 40)])], [(w["wh"], 80, "B-1")])
    order(session, "SO-1", w["shop"], [(w["bread"], 30, None)])
    ship(session, "SO-1", [(1, w["wh"], 30, [("B-1", 30)])], when=at(2))
    inventory.return_goods(
        session,
        ReturnIn(
            customer="SHOP",
            occurred_at=at(4),
            lines=[
                {
                    "item": "BREAD",
                    "location": "QUAR",
                    "quantity": q(5),
                    "lots": [{"lot": "B-1", "quantity": q(5)}],
                }
            ],
        ),
    )

    result = trace.trace(session, [lot(session, "F-1").id], "forward")
    bread = next(m for m in result.mass_balance if m.lot_code == "B-1")
    assert (bread.produced, bread.shipped, bread.returned, bread.on_hand, bread.imbalance) == (
        q(80),
        q(30),
        q(5),
        q(55),
        q(0),
    )
    assert [
        (r.movement_type, r.customer_code, r.location_code, r.quantity)
        for r in result.receipts
        if r.lot_id == bread.lot_id
    ] == [("return", "SHOP", "QUAR", q(5))]
    assert {(x.lot_code, x.location_code): x.quantity for x in result.on_hand if x.lot_code == "B-1"} == {
        ("B-1", "WH1"): q(50),
        ("B-1", "QUAR"): q(5),
    }


def test_a_rework_cycle_terminates_and_is_reported(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    execute(session, "WO-1", w["dough"], [(w["flour"], w["wh"], 50, [("F-1", 50)])], [(w["wh"], 50, "D-1")])
    execute(
        session,
        "WO-2",
        w["bread"],
        [(w["dough"], w["wh"], 40, [("D-1", 40)])],
        [(w["wh"], 80, "B-1")],
        when=at(2),
    )
    # rework: some bread goes back into the same dough lot (D-1 -> B-1 -> D-1)
    execute(
        session,
        "WO-3",
        w["dough"],
        [(w["bread"], w["wh"], 10, [("B-1", 10)])],
        [(w["wh"], 5, "D-1")],
        when=at(3),
    )
    d1, b1 = lot(session, "D-1"), lot(session, "B-1")

    fwd = trace.trace(session, [lot(session, "F-1").id], "forward")
    assert roles(fwd) == {
        ("F-1", "target"): 0,
        ("D-1", "downstream_finished"): 1,
        ("B-1", "downstream_finished"): 2,
    }
    assert [set(c.lot_ids) for c in fwd.cycles] == [{d1.id, b1.id}]

    both = trace.trace(session, [d1.id], "both")
    # B-1 is both a descendant and an ancestor of D-1: listed once per role
    assert roles(both) == {
        ("D-1", "target"): 0,
        ("B-1", "downstream_finished"): 1,
        ("B-1", "upstream_component"): 1,
        ("F-1", "upstream_component"): 1,
    }
    assert len(both.edges) == 3  # F-1->D-1, D-1->B-1, B-1->D-1 each once
    assert len(both.cycles) == 1
    # the picture marks the cycle's edges in red, and only those
    from lotline.trace.svg import render_svg

    svg = render_svg(both)
    assert svg.count('stroke="#b3261e" stroke-width="1.2"') == 2  # D-1 -> B-1 and B-1 -> D-1
    # a bounded trace of a cycle stops too
    bounded = trace.trace(session, [d1.id], "forward", max_depth=50)
    assert roles(bounded) == {("D-1", "target"): 0, ("B-1", "downstream_finished"): 1}


def test_as_of_hides_later_shipments_and_executions(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    execute(session, "WO-1", w["bread"], [(w["flour"], w["wh"], 40, [("F-1", 40)])], [(w["wh"], 80, "B-1")])
    order(session, "SO-1", w["shop"], [(w["bread"], 20, None)])
    order(session, "SO-2", w["deli"], [(w["bread"], 30, None)])
    ship(session, "SO-1", [(1, w["wh"], 20, [("B-1", 20)])], when=at(2))
    ship(session, "SO-2", [(1, w["wh"], 30, [("B-1", 30)])], when=at(10))
    execute(
        session,
        "WO-2",
        w["bread"],
        [(w["flour"], w["wh"], 10, [("F-1", 10)])],
        [(w["wh"], 20, "B-2")],
        when=at(8),
    )
    f1 = lot(session, "F-1").id

    now = trace.trace(session, [f1], "forward")
    assert {s.customer_code for s in now.shipments} == {"SHOP", "DELI"}
    assert {x.lot_code for x in now.lots} == {"F-1", "B-1", "B-2"}

    then = trace.trace(session, [f1], "forward", as_of=at(5))
    assert [s.customer_code for s in then.shipments] == ["SHOP"]
    assert {x.lot_code for x in then.lots} == {"F-1", "B-1"}
    assert then.as_of == at(5) and then.as_of_requested
    stock = {x.lot_code: x.quantity for x in then.on_hand}
    assert stock == {"F-1": q(60), "B-1": q(60)}  # the ledger as of day 5, not today's balances
    flour = next(m for m in then.mass_balance if m.lot_code == "F-1")
    assert (flour.consumed, flour.on_hand, flour.imbalance) == (q(40), q(60), q(0))
    # the same trace taken again gives the same answer (reproducible audit)
    assert trace.trace(session, [f1], "forward", as_of=at(5)).to_json() == then.to_json()


def test_a_lot_with_no_children_traces_to_itself(session, world):
    w = world
    receive(session, w["salt"], w["wh"], "S-9", 25)
    result = trace.trace(session, [lot(session, "S-9").id], "both")
    assert roles(result) == {("S-9", "target"): 0}
    assert result.edges == [] and result.shipments == [] and result.cycles == []
    assert [(m.received, m.on_hand, m.imbalance) for m in result.mass_balance] == [(q(25), q(25), q(0))]


def test_max_depth_limits_the_walk(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    execute(session, "WO-1", w["dough"], [(w["flour"], w["wh"], 40, [("F-1", 40)])], [(w["wh"], 60, "D-1")])
    execute(
        session,
        "WO-2",
        w["bread"],
        [(w["dough"], w["wh"], 60, [("D-1", 60)])],
        [(w["wh"], 120, "B-1")],
        when=at(2),
    )
    f1 = lot(session, "F-1").id
    assert roles(trace.trace(session, [f1], "forward", max_depth=0)) == {("F-1", "target"): 0}
    one = trace.trace(session, [f1], "forward", max_depth=1)
    assert roles(one) == {("F-1", "target"): 0, ("D-1", "downstream_finished"): 1}
    assert len(one.edges) == 1


@pytest.mark.raw_world("damages the balance table on purpose")
def test_imbalance_between_ledger_and_balances_is_shown(session, world, connection):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    f1 = lot(session, "F-1")
    session.flush()
    # simulate drift in the derived balance table: the mass balance must show it, not hide it
    connection.exec_driver_sql(
        "UPDATE inventory_balances SET quantity = 97 WHERE lot_id = %(id)s", {"id": f1.id}
    )
    result = trace.trace(session, [f1.id], "backward")
    [m] = result.mass_balance
    assert (m.total_in, m.on_hand, m.imbalance, m.balanced) == (q(100), q(97), q(3), False)
    assert result.to_json()["summary"]["imbalanced_lots"] == 1


def test_json_document_is_json_safe(session, world):
    import json

    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    execute(session, "WO-1", w["bread"], [(w["flour"], w["wh"], 40, [("F-1", 40)])], [(w["wh"], 80, "B-1")])
    order(session, "SO-1", w["shop"], [(w["bread"], 20, None)])
    ship(session, "SO-1", [(1, w["wh"], 20, [("B-1", 20)])], when=at(2))
    doc = trace.trace(session, [lot(session, "F-1").id]).to_json()
    text = json.dumps(doc)  # would raise on UUID/Decimal/datetime
    assert doc["lots"][0]["role"] == "target" and doc["lots"][0]["lot_id"] == str(lot(session, "F-1").id)
    assert doc["shipments"][0]["quantity"] == "20" and "customer_id" in doc["shipments"][0]
    assert doc["summary"]["customers"] == 1
    assert "Decimal" not in text


# --- bad input -------------------------------------------------------------------------------------


def test_unknown_lot_id_is_not_found(session, world):
    import uuid

    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=str(missing)):
        trace.trace(session, [missing])


def test_lot_code_used_by_several_items_needs_the_sku(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "X-1", 10)
    receive(session, w["salt"], w["wh"], "X-1", 10)
    with pytest.raises(InvalidInput, match="several items"):
        trace.resolve_lot(session, "X-1")
    assert trace.resolve_lot(session, "X-1", item="SALT").item_id == w["salt"].id
    with pytest.raises(NotFound, match="unknown lot 'NOPE'"):
        trace.resolve_lot(session, "NOPE")


def test_as_of_in_the_future_or_unparsable_is_refused(session, world):
    from datetime import UTC, datetime, timedelta

    w = world
    f1 = receive(session, w["flour"], w["wh"], "F-1", 10)
    with pytest.raises(InvalidInput, match="in the future"):
        trace.trace(session, [f1.id], as_of=datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(InvalidInput, match="not an ISO 8601"):
        trace.parse_as_of("last tuesday")
    assert trace.parse_as_of("2026-01-05") == datetime(2026, 1, 5, tzinfo=UTC)
    assert trace.parse_as_of("2026-01-05T10:00:00Z") == datetime(2026, 1, 5, 10, tzinfo=UTC)


@pytest.mark.parametrize("depth", [-1, 10_001, 1.5, True])
def test_bad_max_depth_is_refused(session, world, depth):
    f1 = receive(session, world["flour"], world["wh"], "F-1", 10)
    with pytest.raises(InvalidInput, match="max_depth"):
        trace.trace(session, [f1.id], max_depth=depth)


def test_bad_direction_is_refused(session, world):
    f1 = receive(session, world["flour"], world["wh"], "F-1", 10)
    with pytest.raises(InvalidInput, match="direction"):
        trace.trace(session, [f1.id], direction="sideways")


def test_a_trace_leaves_the_callers_planner_settings_as_they_were(session, world):
    f1 = receive(session, world["flour"], world["wh"], "F-1", 10)
    conn = session.connection()
    before = conn.exec_driver_sql(
        "SELECT current_setting('jit'), current_setting('enable_mergejoin'), current_setting('work_mem'),"
        " current_setting('max_parallel_workers_per_gather')"
    ).one()
    trace.trace(session, [f1.id])
    after = conn.exec_driver_sql(
        "SELECT current_setting('jit'), current_setting('enable_mergejoin'), current_setting('work_mem'),"
        " current_setting('max_parallel_workers_per_gather')"
    ).one()
    assert after == before


def test_a_trace_without_stock_is_five_statements_and_with_stock_six(session, world):
    w = world
    receive(session, w["flour"], w["wh"], "F-1", 100)
    execute(session, "WO-1", w["dough"], [(w["flour"], w["wh"], 40, [("F-1", 40)])], [(w["wh"], 60, "D-1")])
    f1 = lot(session, "F-1").id
    assert trace.trace(session, [f1], "both", with_stock=False).statements == 5
    assert trace.trace(session, [f1], "both").statements == 6
