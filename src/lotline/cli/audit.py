"""``lotline audit``: the audit trail by record, lot, user and time range."""

from __future__ import annotations

import json
from datetime import datetime

import typer

from lotline.audit import service
from lotline.audit.schemas import AuditQuery
from lotline.cli.common import JsonOpt, emit
from lotline.db import read_snapshot
from lotline.lots import service as lots_service
from lotline.serialize import to_jsonable

COLUMNS = ["id", "at", "actor", "actor_kind", "table_name", "operation", "record_id", "changes", "reason"]


def _changes(entry: dict) -> str:
    """old -> new of the changed columns (an UPDATE), or the values of an INSERT/DELETE/EVENT."""
    old, new = entry["old_values"] or {}, entry["new_values"] or {}
    if entry["operation"] == "UPDATE":
        keys = [k for k in new if old.get(k) != new.get(k) and k != "updated_at"]
        return "; ".join(f"{k}: {old.get(k)!s} → {new.get(k)!s}" for k in keys)
    values = new or old
    text = json.dumps(to_jsonable({k: v for k, v in values.items() if k not in ("id", "created_at", "updated_at")}))
    return text if len(text) <= 160 else text[:157] + "…"


def audit(
    table: str | None = typer.Option(None, help="Table of the record, e.g. lots, recall_cases."),
    record: str | None = typer.Option(None, help="Record id."),
    lot: str | None = typer.Option(None, help="Lot code or id: the lot's changes and every row naming it."),
    item: str | None = typer.Option(None, help="Item SKU when the lot code repeats."),
    user: str | None = typer.Option(None, help="Actor (user name, OS login or database role)."),
    since: datetime | None = typer.Option(None, help="From this time (inclusive)."),
    until: datetime | None = typer.Option(None, help="Up to this time (exclusive)."),
    limit: int = typer.Option(1000, min=1, help="At most this many (the newest), shown oldest first."),
    as_json: bool = JsonOpt,
) -> None:
    """Who did what, when and why: every change to a record, with its values before and after."""
    q = AuditQuery(table=table, record=record, lot=lot, item=item, user=user, since=since, until=until, limit=limit)
    with read_snapshot() as s:
        lot_id = lots_service.find_lot(s, q.lot, item_ref=q.item).id if q.lot else None
        rows = service.entries(
            s, table_name=q.table, record_id=q.record, lot_id=lot_id, actor=q.user, since=q.since, until=q.until,
            limit=q.limit,
        )
    if as_json:
        emit(rows, COLUMNS, as_json=True)
        return
    emit([{**r, "changes": _changes(r)} for r in rows], COLUMNS, as_json=False, title="Audit trail")
