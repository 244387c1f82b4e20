"""What the current transaction holds locked — balance rows and lots — with their values, read once.

Several postings in one transaction (a batch: an EPCIS chunk, a spreadsheet, an ERP batch, or one
execution's consume + produce) would otherwise lock and read the same balance rows and lots again
for every document. ``Held`` (in ``session.info``) remembers, for this transaction only:

- ``balances``: balance rows this transaction holds FOR UPDATE, key -> (quantity, last_occurred_at)
  as of this transaction's last write. Exact: no other transaction can change a row we lock, and
  ``balances.apply`` — the only writer of ``inventory_balances`` — updates the entry with what it
  wrote. ``new_lots``: lots created in this transaction, whose keys have no row until we write one.
- ``pairs``: (item, location) pairs whose stocked rows ``balances.lock_stock`` locked (FEFO picks
  from the held rows of those pairs without reading them again; a pick that falls short re-reads).
- ``lots``: lot states (status, expiry) of lots this transaction locked FOR SHARE or created;
  ``lot_info``: what FEFO needs of a lot (code, status, expiry, receipt time); ``by_code``: the
  session's lot objects by (item, lot code) that it made or looked up (codes never change).

Invariants: an entry is only ever a row this transaction locked (or made); any rollback — a
savepoint's too, whose row locks are released with it — and the end of the transaction empty it;
an ORM change of a lot (status changes) or a bulk update of lots forgets every lot state and
every pair. A miss costs one lock statement, never a wrong answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from lotline.models import Lot

Key = tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]  # item, location, lot (None: untracked)
_INFO_KEY = "lotline.held"


# Named tuples, not frozen dataclasses: a posting makes one per locked row (FEFO places hold many),
# and a frozen dataclass's __init__ sets each field through object.__setattr__.
class Row(NamedTuple):
    quantity: Decimal
    last_occurred_at: datetime | None


class LotState(NamedTuple):
    status: str
    expires_at: datetime | None


class LotInfo(NamedTuple):
    lot_code: str
    status: str
    expires_at: datetime | None
    received_at: datetime | None


@dataclass
class Held:
    balances: dict[Key, Row] = field(default_factory=dict)
    new_lots: set[uuid.UUID] = field(default_factory=set)
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    lots: dict[uuid.UUID, LotState] = field(default_factory=dict)
    lot_info: dict[uuid.UUID, LotInfo] = field(default_factory=dict)
    # lots by (item, code) that this transaction made or looked up: a lot's code never changes
    by_code: dict[tuple[uuid.UUID, str], Any] = field(default_factory=dict)

    def forget_lots(self) -> None:
        self.lots.clear()
        self.lot_info.clear()
        self.pairs.clear()


def of(session: Session) -> Held:
    """This transaction's held state (created empty on first use)."""
    held = session.info.get(_INFO_KEY)
    if held is None:
        held = session.info[_INFO_KEY] = Held()
    return held


def forget(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)


def lot_created(session: Session, lot: Any) -> None:
    """A lot made in this transaction: active, invisible to others, no balance row yet."""
    held = of(session)
    held.new_lots.add(lot.id)
    held.by_code[(lot.item_id, lot.lot_code)] = lot
    held.lots[lot.id] = LotState(lot.status, lot.expires_at)
    held.lot_info[lot.id] = LotInfo(lot.lot_code, lot.status, lot.expires_at, lot.received_at)


@sa.event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: SessionTransaction) -> None:
    forget(session)


@sa.event.listens_for(Session, "after_transaction_end")
def _after_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        forget(session)


@sa.event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    held = session.info.get(_INFO_KEY)
    if held is None or not held.lots:
        return
    if any(isinstance(o, Lot) for o in (*session.dirty, *session.deleted)):
        held.forget_lots()


@sa.event.listens_for(Session, "do_orm_execute")
def _on_execute(state: Any) -> None:
    if not (state.is_update or state.is_delete):
        return
    held = state.session.info.get(_INFO_KEY)
    if held is not None and any(m.class_ is Lot for m in state.all_mappers):
        held.forget_lots()
