"""Audit trail services: the reason of a change, events, and queries over ``audit_log``.

``require_reason`` is how a service states that its change needs a reason (lot status changes,
reversals, recall target removal, cancel and close): InvalidInput without one, else the reason is
put in the transaction-local ``lotline.reason`` that every entry of the transaction then carries.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.errors import InvalidInput
from lotline.serialize import to_jsonable
from lotline.types import check_one_line

_SET_REASON = sa.text("SELECT set_config('lotline.reason', :reason, true)")
_EVENT = sa.text(
    """
    INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, new_values, reason)
    SELECT a.name, a.kind, :table_name, :record_id, 'EVENT', CAST(:values AS jsonb),
           nullif(current_setting('lotline.reason', true), '')
      FROM lotline_audit_actor() AS a
    RETURNING id
    """
)


def set_reason(session: Session, reason: str | None) -> None:
    """Every audit entry written after this in the transaction carries ``reason``."""
    session.execute(_SET_REASON, {"reason": (reason or "").strip()})


def require_reason(session: Session, reason: str | None, what: str) -> str:
    """InvalidInput naming ``what`` unless a non-blank reason is given; sets it for the audit."""
    if reason is None or not reason.strip():
        raise InvalidInput(f"{what} needs a reason (it is recorded in the audit trail)", field="reason")
    set_reason(session, reason)
    return reason.strip()


def record_event(
    session: Session, event: str, table_name: str, record_id: Any, details: dict | None = None
) -> int:
    """An entry for something that changed no row (refused sign-in, bulk load); returns its id."""
    values = {"event": event, **(details or {})}
    return session.execute(
        _EVENT,
        {
            "table_name": table_name,
            "record_id": str(record_id) if record_id is not None else None,
            "values": json.dumps(to_jsonable(values)),
        },
    ).scalar_one()


def latest_entry_id(session: Session, table_name: str, record_id: Any) -> int | None:
    """The newest entry of this transaction for a record (what a signature links to)."""
    return session.execute(
        sa.text(
            "SELECT max(id) FROM audit_log WHERE table_name = :t AND record_id = :r"
            " AND txid = pg_current_xact_id()::text::bigint"
        ),
        {"t": table_name, "r": str(record_id)},
    ).scalar()


_COLUMNS = "id, at, actor, actor_kind, db_role, table_name, record_id, operation, old_values, new_values, reason"


def entries(
    session: Session,
    *,
    table_name: str | None = None,
    record_id: str | None = None,
    lot_id: uuid.UUID | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
    after_id: int | None = None,
) -> list[dict]:
    """Entries, oldest first, filtered by record, lot (its own row and rows naming it), actor and
    the half-open time range [since, until). InvalidInput for a filter that is not one line (it
    could match nothing, and is more likely a paste gone wrong)."""
    for name, value in (("table", table_name), ("record", record_id), ("user", actor)):
        if value is not None:
            try:
                check_one_line(str(value))
            except ValueError as exc:
                raise InvalidInput(f"audit filter --{name} {exc}") from None
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if table_name:
        where.append("table_name = :table_name")
        params["table_name"] = table_name
    if record_id:
        where.append("record_id = :record_id")
        params["record_id"] = str(record_id)
    if lot_id is not None:
        where.append(
            "((table_name = 'lots' AND record_id = :lot_id) OR "
            "(table_name IN ('inventory_movement_lots', 'recall_case_targets', 'work_order_lot_links', 'shipment_lot_links')"
            " AND coalesce(new_values, old_values) ->> 'lot_id' = :lot_id))"
        )
        params["lot_id"] = str(lot_id)
    if actor:
        where.append("actor = :actor")
        params["actor"] = actor
    if since:
        where.append("at >= :since")
        params["since"] = since
    if until:
        where.append("at < :until")
        params["until"] = until
    if after_id is not None:
        # a page: the `limit` entries after entry `after_id`, oldest first
        where.append("id > :after_id")
        params["after_id"] = after_id
        clause = f"WHERE {' AND '.join(where)}"
        text = f"SELECT {_COLUMNS} FROM audit_log {clause} ORDER BY id LIMIT :limit"
    else:
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        # newest `limit` entries, returned oldest first
        text = f"SELECT * FROM (SELECT {_COLUMNS} FROM audit_log {clause} ORDER BY id DESC LIMIT :limit) x ORDER BY id"
    return [dict(r) for r in session.execute(sa.text(text), params).mappings()]


def lot_status_history(session: Session, lot_id: uuid.UUID) -> list[dict]:
    """The lot's status changes (creation included): when, who, from, to, why."""
    rows = session.execute(
        sa.text(
            """
            SELECT at, actor, actor_kind, operation,
                   old_values ->> 'status' AS from_status, new_values ->> 'status' AS to_status, reason
              FROM audit_log
             WHERE table_name = 'lots' AND record_id = :lot_id
               AND (operation = 'INSERT' OR old_values ->> 'status' IS DISTINCT FROM new_values ->> 'status')
             ORDER BY id
            """
        ),
        {"lot_id": str(lot_id)},
    ).mappings()
    return [dict(r) for r in rows]
