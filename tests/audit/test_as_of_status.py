"""An as-of trace shows each lot's status as it was then, from the audit trail."""

from __future__ import annotations

import sqlalchemy as sa

from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.trace import service as trace
from tests.builders import make_item, make_location, make_vendor, receive, sign


def _status(session, lot, as_of=None, max_depth=None) -> str:
    result = trace.trace(session, [lot.id], "both", as_of, max_depth)
    return {x.lot_code: x.status for x in result.lots}[lot.lot_code]


def test_an_as_of_trace_shows_the_status_the_lot_had_then(session):
    item = make_item(session, "FLOUR")
    wh = make_location(session, "WH")
    make_vendor(session, "MILL")
    lot = receive(session, item, wh, "F-1", 10)
    clock = sa.text("SELECT clock_timestamp()")
    while_active = session.execute(clock).scalar()
    lots_service.change_status(session, lot, LotStatusChange(status="blocked", reason="supplier notice"))
    while_blocked = session.execute(clock).scalar()
    lots_service.change_status(session, lot, LotStatusChange(status="active", reason="lab ok", signature=sign(session)))
    lots_service.change_status(session, lot, LotStatusChange(status="quarantine", reason="second sample"))
    assert _status(session, lot) == "quarantine"
    assert _status(session, lot, while_active) == "active"
    assert _status(session, lot, while_blocked) == "blocked"
    assert _status(session, lot, while_blocked, max_depth=1) == "blocked"
