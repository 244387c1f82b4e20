"""runs.run_lots, one statement, gives the rows of the ORM query it replaced (an on-hand subquery per lot)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from lotline.models import InventoryBalance, Item, Lot, RecallImpactedLot
from lotline.recalls import service as recalls
from lotline.recalls.schemas import ActionIn, CaseIn, TargetIn, TransitionIn
from tests.builders import sign
from tests.recalls.completion_support import with_strategy


def _orm_run_lots(session, run_id) -> list[dict]:
    """The ORM query run_lots was (the reference)."""
    on_hand = (
        sa.select(sa.func.coalesce(sa.func.sum(InventoryBalance.quantity), 0))
        .where(InventoryBalance.lot_id == RecallImpactedLot.lot_id)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(
            RecallImpactedLot.lot_id, Lot.lot_code, Item.sku, Item.name.label("item_name"), Item.uom,
            RecallImpactedLot.role, Lot.status, Lot.expires_at, on_hand.label("on_hand"),
        )
        .join(Lot, Lot.id == RecallImpactedLot.lot_id)
        .join(Item, Item.id == Lot.item_id)
        .where(RecallImpactedLot.recall_trace_run_id == run_id)
        .order_by(RecallImpactedLot.role.desc(), Item.sku, Lot.lot_code)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]


def test_run_lots_equals_the_orm_query_in_values_keys_and_order(session, world):
    case = recalls.create_case(session, CaseIn(severity="high", summary="run lots"))
    for lot in ("F-1", "B-2"):  # B-2 has an upstream component, F-2
        recalls.add_target(session, case.id, TargetIn(lot=lot))
    with_strategy(session, case)
    recalls.activate(session, case.id, TransitionIn(signature=sign(session)))
    run = recalls.compute_run(session, case.id)
    # a scrapped lot: its balance rows are at zero; another lot has stock in two places after a quarantine
    for action_type, lot in (("scrap_lot", "B-1"), ("quarantine_lot", "C-1")):
        action = recalls.plan_action(session, case.id, ActionIn(action_type=action_type, lot=lot))
        recalls.run_action(session, action.id)
    got, expected = recalls.run_lots(session, run.id), _orm_run_lots(session, run.id)
    assert got == expected and len(got) >= 5
    assert [list(r) for r in got] == [list(r) for r in expected]  # same keys in the same order
    assert {r["lot_code"]: r["on_hand"] for r in got}["B-1"] == Decimal(0)
    assert any(r["on_hand"] > 0 for r in got) and {r["role"] for r in got} >= {"target", "upstream_component"}
