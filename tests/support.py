"""Assertion helpers shared by the posting tests (inventory, lots, production, sales, catalog, db).

``refused_without_writes`` runs a use case through the real ``lotline.db.transaction()`` boundary
and checks both that it raises the expected domain error and that the database is exactly as it was
(row counts and a content hash of every table), so "nothing half-written" is tested, not assumed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline import db
from lotline.models import InventoryBalance, InventoryMovementLine, InventoryMovementLot


def table_names(session: Session) -> list[str]:
    return list(
        session.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        ).scalars()
    )


def database_state(session: Session) -> dict[str, tuple[int, str | None]]:
    """Per table: (row count, md5 of all rows) — detects inserts, deletes and updates alike."""
    parts = [
        f"SELECT '{t}' AS tbl, count(*) AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM \"{t}\" x"
        for t in table_names(session)
    ]
    rows = session.execute(sa.text(" UNION ALL ".join(parts))).all()
    return {r.tbl: (r.n, r.h) for r in rows}


@contextmanager
def refused_without_writes(session: Session, error: type[Exception], match: str | None = None):
    """``with refused_without_writes(session, WrongLotItem) as tx: service.f(tx, ...)``."""
    session.flush()
    before = database_state(session)
    with pytest.raises(error, match=match), db.transaction() as tx:
        yield tx
    after = database_state(session)
    changed = {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
    assert not changed, f"a refused posting left writes behind: {changed}"
    session.expire_all()


def run(session: Session, fn: Callable[[Session], object]):
    """Run ``fn`` through the real transaction boundary (committed into the test's savepoint)."""
    with db.transaction() as tx:
        result = fn(tx)
    session.expire_all()
    return result


def balance(session: Session, item, location, lot=None) -> Decimal:
    """On-hand of one (item, location, lot) from the balance table (0 when no row)."""
    q = session.scalar(
        sa.select(InventoryBalance.quantity).where(
            InventoryBalance.item_id == item.id,
            InventoryBalance.location_id == location.id,
            InventoryBalance.lot_id.is_(None) if lot is None else InventoryBalance.lot_id == lot.id,
        )
    )
    return Decimal(0) if q is None else q


def ledger_quantity(session: Session, item, location, lot) -> Decimal:
    """The same on-hand recomputed from the ledger's lot rows."""
    return session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(InventoryMovementLot.quantity_delta), 0))
        .join(
            InventoryMovementLine, InventoryMovementLine.id == InventoryMovementLot.inventory_movement_line_id
        )
        .where(
            InventoryMovementLine.item_id == item.id,
            InventoryMovementLine.location_id == location.id,
            InventoryMovementLot.lot_id == lot.id,
        )
    )


def count(session: Session, model, *where) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def lot_rows_of(session: Session, movement_id: uuid.UUID) -> list[InventoryMovementLot]:
    return list(
        session.scalars(
            sa.select(InventoryMovementLot)
            .join(
                InventoryMovementLine,
                InventoryMovementLine.id == InventoryMovementLot.inventory_movement_line_id,
            )
            .where(InventoryMovementLine.movement_id == movement_id)
            .order_by(InventoryMovementLine.line_no, InventoryMovementLot.quantity_delta)
        )
    )
