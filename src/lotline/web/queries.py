"""Read models the console needs and the services do not offer (search, ledger pages, home lists).

Each is one set-based statement from ``web/sql``; none writes. Everything that changes data goes
through the services.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from lotline.db import local_settings, sql
from lotline.errors import InvalidInput

SEARCH_MAX = 60


def _rows(session: Session, name: str, params: dict) -> list[dict]:
    return sql.rows(session, sql.load_sql("lotline.web", name), params, kind="dict")


def search_lots(session: Session, text: str, *, limit: int = 25) -> list[dict]:
    """Lots matching the start of a lot code, vendor lot code, SKU, customer, order or shipment."""
    term = (text or "").strip()
    if not term:
        return []
    if len(term) > SEARCH_MAX:
        raise InvalidInput(f"search text is longer than {SEARCH_MAX} characters")
    terms = sorted({term, term.upper()})
    with local_settings(session, jit="off"):
        return _rows(session, "search", {"terms": terms, "limit": limit})


def lot_ledger(session: Session, lot_id: uuid.UUID, *, offset: int, limit: int) -> tuple[list[dict], bool]:
    """One page of the lot's ledger, newest first, and whether there is a next page."""
    rows = _rows(session, "lot_ledger", {"lot_id": lot_id, "offset": offset, "limit": limit})
    return rows[:limit], len(rows) > limit


def lots_on_hold(session: Session, *, limit: int = 20) -> list[dict]:
    return _rows(session, "lots_on_hold", {"limit": limit})


def lots_expiring(session: Session, now: datetime, days: int, *, limit: int = 20) -> list[dict]:
    if not 1 <= days <= 366:
        raise InvalidInput(f"days must be between 1 and 366, got {days}")
    return _rows(session, "lots_expiring", {"now": now, "until": now + timedelta(days=days), "limit": limit})
