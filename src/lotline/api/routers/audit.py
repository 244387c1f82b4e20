"""The audit trail: GET /audit (by record, lot, user, time range)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from lotline.api import pagination
from lotline.api.deps import ReadSession, require
from lotline.api.pagination import PAGED, CursorQ, LimitQ, Page
from lotline.api.schemas import AuditEntry
from lotline.audit import service
from lotline.audit.schemas import AuditQuery, TableName
from lotline.db.pages import Page as KeyPage
from lotline.lots import service as lots_service
from lotline.serialize import to_jsonable
from lotline.types import Ref, Timestamp

router = APIRouter(tags=["audit"])


@router.get("/audit", dependencies=[require("audit.read")], response_model=Page[AuditEntry], responses=PAGED)
def audit_entries(
    request: Request,
    response: Response,
    session: ReadSession,
    table: TableName | None = Query(None, description="Table of the record, e.g. lots"),
    record: Ref | None = Query(None, description="Record id"),
    lot: Ref | None = Query(None, description="Lot code or id: its changes and rows naming it"),
    item: Ref | None = Query(None, description="Item SKU when the lot code is used by several items"),
    user: Ref | None = Query(None, description="Actor name (user, OS login or database role)"),
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    limit: LimitQ = pagination.DEFAULT_LIMIT,
    cursor: CursorQ = None,
) -> dict:
    """Entries oldest first: when, who, table, record, operation, values before and after, reason."""
    q = AuditQuery(table=table, record=record, lot=lot, item=item, user=user, since=since, until=until, limit=limit)
    after = pagination.decode("audit", cursor)
    lot_id = lots_service.find_lot(session, q.lot, item_ref=q.item).id if q.lot else None
    rows = service.entries(
        session, table_name=q.table, record_id=q.record, lot_id=lot_id, actor=q.user, since=q.since,
        until=q.until, limit=q.limit + 1, after_id=int(after[0]) if after else 0,
    )
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    page = KeyPage(rows, (str(rows[-1]["id"]),) if more else None)
    return pagination.respond(request, response, "audit", to_jsonable(rows), page)
