"""A persisted trace run impacts exactly what the trace engine finds: the same lots with the same
roles and the same shipments with their customers, whatever the direction, depth limit or time —
although the run inserts straight from its own walk of the genealogy and never builds the trace."""

from __future__ import annotations

import pytest

from lotline.models import RecallImpactedLot, RecallImpactedShipment
from lotline.recalls import service as recalls
from lotline.recalls.schemas import CaseIn, RunIn, TargetIn
from lotline.trace import service as trace
from tests.builders import at, execute

CASES = [
    (lots, direction, max_depth, as_of)
    for lots in (("F-1",), ("C-1",), ("F-1", "S-1"), ("B-2", "F-2"), ("DR-1",))
    for direction in ("forward", "backward", "both")
    for max_depth in (None, 0, 1)
    for as_of in (None, 3.5)
]


@pytest.fixture
def deeper(session, world):
    """One more level: a dessert made of cake C-1 and bread B-1 on day 5."""
    execute(
        session,
        "WO-9",
        world.items["CAKE"],
        [(world.items["CAKE"], world.wh, 5, [("C-1", 5)]), (world.items["BREAD"], world.wh, 5, [("B-1", 5)])],
        [(world.wh, 10, "DR-1")],
        when=at(5),
    )
    return world


@pytest.mark.parametrize(("codes", "direction", "max_depth", "as_of_day"), CASES)
def test_a_persisted_run_impacts_what_the_trace_finds(session, deeper, codes, direction, max_depth, as_of_day):
    case = recalls.create_case(session, CaseIn(summary="equivalence", severity="low"))
    for code in codes:
        recalls.add_target(session, case.id, TargetIn(lot=code, item="CAKE" if code == "DR-1" else None))
    as_of = None if as_of_day is None else at(as_of_day)
    run = recalls.compute_run(session, case.id, RunIn(direction=direction, max_depth=max_depth, as_of=as_of))

    start = [t["lot_id"] for t in recalls.list_targets(session, case)]
    result = trace.trace(session, start, direction, as_of=run.as_of, max_depth=max_depth, with_stock=False)
    lots = {(x.lot_id, x.role) for x in session.query(RecallImpactedLot).filter_by(recall_trace_run_id=run.id)}
    ships = {
        (x.sales_order_shipment_id, x.customer_id)
        for x in session.query(RecallImpactedShipment).filter_by(recall_trace_run_id=run.id)
    }
    assert lots == {(x.lot_id, x.role) for x in result.lots}
    assert ships == {(s.sales_order_shipment_id, s.customer_id) for s in result.shipments}
    assert lots  # every case reaches at least its targets
