"""The derived per-lot ledger totals (lot_flow_totals): kept equal to the ledger by triggers whatever
writes it, and a trace's receipts, on-hand and mass balance read from them equal the same figures
worked out from every ledger row — as of now and as of any earlier time."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from lotline.db import sql
from lotline.db.sql import load_sql
from lotline.inventory import service as inventory
from lotline.inventory.schemas import AdjustmentIn, ReturnIn, ReversalIn, ScrapIn, TransferIn
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

DRIFT = load_sql("lotline.generate", "check_16_lot_flow_totals")  # (violations, sample)

# Every lot row with its line's type, location and time, and its receipt/return movement.
LEDGER = """
SELECT iml.lot_id, l.location_id, loc.code, l.movement_type, iml.quantity_delta, l.occurred_at, l.movement_id
  FROM inventory_movement_lots iml
  JOIN inventory_movement_lines l ON l.id = iml.inventory_movement_line_id
  JOIN locations loc ON loc.id = l.location_id
"""

OUT = {"production_consume": "consumed", "shipment": "shipped", "scrap": "scrapped"}
IN = {"receipt": "received", "production_produce": "produced", "return": "returned"}


def q(x) -> Decimal:
    return Decimal(str(x))


@pytest.fixture
def world(session):
    """Flour received, moved, adjusted, made into bread, shipped, returned, scrapped, reversed."""
    flour, bread = make_item(session, "FLOUR"), make_item(session, "BREAD", uom="ea")
    wh, wh2 = make_location(session, "WH1"), make_location(session, "WH2")
    make_location(session, "QUAR", kind="quarantine")
    make_vendor(session, "MILL")
    shop = make_customer(session, "SHOP")
    receive(session, flour, wh, "F-1", 100, when=at(0))
    receive(session, flour, wh, "F-2", 10, when=at(0, 1))
    inventory.transfer(
        session,
        TransferIn(item="FLOUR", from_location="WH1", to_location="WH2", quantity=q(30),
                   lots=[{"lot": "F-1", "quantity": q(30)}], occurred_at=at(1)),
    )  # fmt: skip
    inventory.adjust(
        session,
        AdjustmentIn(reason="count", occurred_at=at(1, 2),
                     lines=[{"item": "FLOUR", "location": "WH1", "quantity": q(-2), "lots": [{"lot": "F-1", "quantity": q(-2)}]},
                            {"item": "FLOUR", "location": "WH1", "quantity": q(1), "lots": [{"lot": "F-2", "quantity": q(1)}]}]),
    )  # fmt: skip
    execute(session, "WO-1", bread, [(flour, wh, 40, [("F-1", 35), ("F-2", 5)])], [(wh, 80, "B-1")], when=at(2))
    execute(session, "WO-2", bread, [(flour, wh2, 20, [("F-1", 20)])], [(wh2, 40, "B-2")], when=at(3))
    order(session, "SO-1", shop, [(bread, 50, None)], when=at(2))
    ship(session, "SO-1", [(1, wh, 50, [("B-1", 50)])], when=at(4))
    inventory.return_goods(
        session,
        ReturnIn(customer="SHOP", occurred_at=at(5),
                 lines=[{"item": "BREAD", "location": "QUAR", "quantity": q(6), "lots": [{"lot": "B-1", "quantity": q(6)}]}]),
    )  # fmt: skip
    inventory.scrap(
        session,
        ScrapIn(item="BREAD", location="QUAR", quantity=q(4), lots=[{"lot": "B-1", "quantity": q(4)}], occurred_at=at(6)),
    )
    receipt = sql.scalar(
        session,
        "SELECT m.id FROM inventory_movements m JOIN inventory_movement_lines l ON l.movement_id = m.id"
        " JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = l.id"
        " JOIN lots x ON x.id = iml.lot_id WHERE x.lot_code = 'F-2' AND m.movement_type = 'receipt'",
        {},
    )
    session.flush()
    return {"flour": flour, "bread": bread, "wh": wh, "receipt_f2": receipt}


def _drift(session) -> list:
    session.flush()
    violations, sample = sql.one(session, DRIFT, {}, kind="tuple")
    return [] if violations == 0 else [violations, sample]


def _by_hand(session, as_of) -> tuple[dict, dict, dict]:
    """Mass balance flows, on-hand per location and receipts per lot id, from every ledger row."""
    flows: dict = defaultdict(lambda: defaultdict(Decimal))
    held: dict = defaultdict(Decimal)
    receipts: dict = defaultdict(Decimal)
    for lot_id, _loc_id, loc, kind, qty, when, movement_id in sql.rows(session, LEDGER, {}, kind="tuple"):
        if when > as_of:
            continue
        f = flows[lot_id]
        if kind in IN:
            f[IN[kind]] += qty
        elif kind in OUT:
            f[OUT[kind]] -= qty
        elif kind == "adjustment":
            f["adjusted_in" if qty > 0 else "adjusted_out"] += abs(qty)
        else:
            f["transfer_net"] += qty
        held[(lot_id, loc)] += qty
        if kind in IN and kind != "production_produce":
            receipts[(movement_id, lot_id, loc)] += qty
    return flows, {k: v for k, v in held.items() if v}, dict(receipts)


def _from_trace(result) -> tuple[dict, dict, dict]:
    names = ("received", "produced", "returned", "adjusted_in", "consumed", "shipped", "scrapped", "adjusted_out",
             "transfer_net")  # fmt: skip
    flows = {m.lot_id: {n: getattr(m, n) for n in names if getattr(m, n)} for m in result.mass_balance}
    held = {(x.lot_id, x.location_code): x.quantity for x in result.on_hand}
    receipts = {(r.movement_id, r.lot_id, r.location_code): r.quantity for r in result.receipts}
    return flows, held, receipts


def test_postings_of_every_kind_keep_the_totals_equal_to_the_ledger(session, world):
    assert _drift(session) == []
    # F-1 was consumed at WH1 once and at WH2 once: one row per (location, type, direction)
    f1 = lots_service.find_lot(session, "F-1").id
    rows = sql.rows(
        session,
        "SELECT location_id, movement_type, increase, movement_id IS NOT NULL, quantity, lot_rows"
        " FROM lot_flow_totals WHERE lot_id = %(lot)s::uuid ORDER BY 2, 3, 5",  # the two consumes differ by place
        {"lot": f1},
        kind="tuple",
    )
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [
        ("adjustment", False, False, q(-2), 1),
        ("production_consume", False, False, q(-35), 1),
        ("production_consume", False, False, q(-20), 1),
        ("receipt", True, True, q(100), 1),
        ("transfer", False, False, q(-30), 1),
        ("transfer", True, False, q(30), 1),
    ]
    assert sql.scalar(session, "SELECT sum(lot_rows) FROM lot_flow_totals", {}) == sql.scalar(
        session, "SELECT count(*) FROM inventory_movement_lots", {}
    )


def test_a_reversed_receipt_shows_with_its_reversal_and_keeps_the_totals_equal(session, world):
    f3 = receive(session, world["flour"], world["wh"], "F-3", 10, when=at(6))
    receipt = sql.scalar(
        session,
        "SELECT l.movement_id FROM inventory_movement_lots iml"
        " JOIN inventory_movement_lines l ON l.id = iml.inventory_movement_line_id WHERE iml.lot_id = %(lot)s::uuid",
        {"lot": f3.id},
    )
    inventory.reverse(session, receipt, ReversalIn(reason="keyed twice", occurred_at=at(7)))
    assert _drift(session) == []
    result = trace.trace(session, [f3.id], "both")
    assert sorted((r.movement_type, r.quantity) for r in result.receipts) == [("receipt", q(-10)), ("receipt", q(10))]
    [m] = result.mass_balance
    assert (m.received, m.on_hand, m.imbalance) == (q(0), q(0), q(0))


@pytest.mark.parametrize("days", [0.5, 1, 1.5, 2, 3.5, 4, 5, 6, None])
def test_the_trace_stock_equals_the_ledger_worked_out_by_hand_as_of_any_time(session, world, days):
    as_of = at(days) if days is not None else None
    start = [lots_service.find_lot(session, "F-1").id, lots_service.find_lot(session, "F-2").id]
    result = trace.trace(session, start, "both", as_of=as_of)
    flows, held, receipts = _by_hand(session, result.as_of)
    traced = {m.lot_id for m in result.mass_balance}
    want_flows = {k: {n: v for n, v in f.items() if v} for k, f in flows.items() if k in traced}
    got_flows, got_held, got_receipts = _from_trace(result)
    assert got_flows == {k: want_flows.get(k, {}) for k in traced}
    assert got_held == {k: v for k, v in held.items() if k[0] in traced}
    assert got_receipts == {k: v for k, v in receipts.items() if k[1] in traced}
    assert all(m.balanced for m in result.mass_balance)


@pytest.mark.raw_world("edits posted ledger rows by hand to test the triggers")
def test_raw_updates_deletes_and_truncates_of_lot_rows_and_lines_are_folded_in(session, world):
    sql.execute(
        session,
        "UPDATE inventory_movement_lots SET quantity_delta = quantity_delta * 2 WHERE quantity_delta < 0", {}
    )
    assert _drift(session) == []
    # a line moved to another location and time carries its lot rows' keys along
    sql.execute(
        session,
        "UPDATE inventory_movement_lines SET location_id = (SELECT id FROM locations WHERE code = 'QUAR'),"
        " occurred_at = occurred_at + interval '1 day' WHERE movement_type = 'transfer'",
        {},
    )
    assert _drift(session) == []
    # a change the totals do not depend on
    sql.execute(session, "UPDATE inventory_movement_lines SET unit_cost = 1 WHERE movement_type = 'receipt'", {})
    assert _drift(session) == []
    # deleting lines cascades to their lot rows
    sql.execute(session, "DELETE FROM work_order_lot_links", {})
    sql.execute(session, "DELETE FROM shipment_lot_links", {})
    sql.execute(session, "DELETE FROM sales_order_shipment_lines", {})
    sql.execute(session, "DELETE FROM inventory_movement_lines WHERE movement_type IN ('shipment', 'scrap')", {})
    assert _drift(session) == []
    assert sql.scalar(session, "SELECT count(*) FROM lot_flow_totals WHERE movement_type = 'shipment'", {}) == 0
    sql.execute(session, "DELETE FROM inventory_movement_lots WHERE quantity_delta > 50", {})
    assert _drift(session) == []
    sql.execute(session, "TRUNCATE inventory_movement_lots CASCADE", {})
    assert sql.scalar(session, "SELECT count(*) FROM lot_flow_totals", {}) == 0
