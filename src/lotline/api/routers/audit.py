"""The audit trail: GET /audit (by record, lot, user, time range)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from lotline.api.deps import ReadSession, require
from lotline.audit import service
from lotline.audit.schemas import AuditQuery, TableName
from lotline.lots import service as lots_service
from lotline.serialize import to_jsonable
from lotline.types import Ref, Timestamp

router = APIRouter(tags=["audit"])


@router.get("/audit", dependencies=[require("audit.read")])
def audit_entries(
    session: ReadSession,
    table: TableName | None = Query(None, description="Table of the record, e.g. lots"),
    record: Ref | None = Query(None, description="Record id"),
    lot: Ref | None = Query(None, description="Lot code or id: its changes and rows naming it"),
    item: Ref | None = Query(None, description="Item SKU when the lot code is used by several items"),
    user: Ref | None = Query(None, description="Actor name (user, OS login or database role)"),
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    limit: int = Query(1000, ge=1, le=100_000),
) -> list[dict]:
    """Entries oldest first: when, who, table, record, operation, values before and after, reason."""
    q = AuditQuery(table=table, record=record, lot=lot, item=item, user=user, since=since, until=until, limit=limit)
    lot_id = lots_service.find_lot(session, q.lot, item_ref=q.item).id if q.lot else None
    return to_jsonable(
        service.entries(
            session, table_name=q.table, record_id=q.record, lot_id=lot_id, actor=q.user, since=q.since,
            until=q.until, limit=q.limit,
        )
    )
