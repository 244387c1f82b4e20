"""``updated_at`` is maintained by the service (Phase 7 gives it no default and no trigger).

Real commits: inside one transaction now() does not move, so two transactions are needed to see it.
"""

from __future__ import annotations

from lotline import db
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReversalIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.models import InventoryMovement, Lot
from tests.builders import at, make_item, make_location, make_vendor, receive


def test_changing_a_lot_status_moves_its_updated_at(committed_engine):
    with db.transaction() as s:
        flour = make_item(s, "FLOUR")
        wh = make_location(s, "WH1")
        make_vendor(s)
        lot_id = receive(s, flour, wh, "F-1", 10).id
    with db.transaction() as s:
        before = s.get(Lot, lot_id).updated_at
        assert before is not None
        lots_service.change_status(s, s.get(Lot, lot_id), LotStatusChange(status="blocked", reason="recall"))
    with db.transaction() as s:
        lot = s.get(Lot, lot_id)
        assert (lot.status, lot.notes) == ("blocked", "recall")
        assert lot.updated_at > before >= lot.created_at


def test_reversing_a_movement_moves_the_originals_updated_at(committed_engine):
    with db.transaction() as s:
        flour = make_item(s, "FLOUR")
        wh = make_location(s, "WH1")
        make_vendor(s)
        receive(s, flour, wh, "F-1", 10)
        original = s.query(InventoryMovement).one()
        original_id, before = original.id, original.updated_at
    with db.transaction() as s:
        inventory.reverse(s, original_id, ReversalIn(reason="typo", occurred_at=at(1)))
    with db.transaction() as s:
        moved = s.get(InventoryMovement, original_id)
        assert moved.status == "reversed" and moved.updated_at > before
