"""New lots are inserted all together or not at all: a receipt naming a lot code its item already
has is refused naming that code, and writes nothing — not even its other, new lots."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lotline.errors import DuplicateKey
from lotline.lots import service as lots_service
from lotline.lots.schemas import NewLot
from lotline.models import Lot
from tests.builders import at, receive

D = Decimal


def test_a_receipt_reusing_one_lot_code_of_several_is_refused_naming_it_and_writes_no_lot(session, w):
    receive(session, w.flour, w.wh1, "F-2", 5)
    session.flush()
    with pytest.raises(DuplicateKey, match="FLOUR already has a lot 'F-2'"):
        lots_service.create_lots(
            session, [(w.flour, NewLot(lot_code="F-1")), (w.flour, NewLot(lot_code="F-2"))], received_at=at(1)
        )
    # refused before anything was written: the caller may go on in the same transaction
    assert session.scalars(sa.select(Lot.lot_code).where(Lot.item_id == w.flour.id)).all() == ["F-2"]


def test_output_lots_are_made_once_and_found_after(session, w):
    made, created = lots_service.output_lot(session, w.bread, NewLot(lot_code="B-1", manufactured_at=at(1)))
    again, created_again = lots_service.output_lot(session, w.bread, NewLot(lot_code="B-1", manufactured_at=at(2)))
    assert created and not created_again
    assert again.id == made.id and again.manufactured_at == at(1)
    assert made.expires_at == at(1 + 5)  # BREAD keeps 5 days
