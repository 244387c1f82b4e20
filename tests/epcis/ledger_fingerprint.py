"""A database's ledger as comparable data: every row of the tables a capture writes, ids replaced by labels.

Two captures of one document into two databases (or twice into one, rolled back in between) make
different ids and creation times; everything else must be equal. ``fingerprint`` reads every row of
the ledger, derived, EPCIS and master data tables — and the audit entries of the current transaction —
as JSON, drops the columns that record *when a row was written* (``created_at``, ``updated_at``, the
audit entry's ``at``...), and replaces every id, wherever it appears (a column, a JSON value, inside a
message), by a label made of the row's natural content (an item's SKU, a lot's item and code, a
movement's type, time, reference, notes and lines). What remains is compared table by table as
sorted lists.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

TABLES = [
    "items", "locations", "vendors", "customers", "gs1_identifiers",
    "lots", "work_orders", "work_order_executions", "work_order_lot_links", "lot_genealogy_edges",
    "sales_orders", "sales_order_lines", "sales_order_shipments", "sales_order_shipment_lines",
    "shipment_lot_links", "lot_shipments", "sales_order_line_fills",
    "inventory_movements", "inventory_movement_lines", "inventory_movement_lots", "inventory_balances",
    "lot_flow_totals", "kpi_ledger_days", "lot_search_keys",
    "epcis_events", "epcis_capture_results", "epcis_capture_jobs",
]
# when a row was written, not what it says
WRITTEN_AT = {"created_at", "updated_at", "recorded_at", "last_shipment_recorded_at", "order_changed_at",
              "last_recorded_at", "record_time", "finished_at", "at", "id_audit"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_LABELS = """
WITH lines AS (
    SELECT l.movement_id,
           string_agg(i.sku || '@' || loc.code || ':' || l.quantity_delta::text || '[' ||
                      coalesce((SELECT string_agg(li.sku || '/' || lt.lot_code || ':' || r.quantity_delta::text, ','
                                                  ORDER BY lt.lot_code)
                                  FROM inventory_movement_lots r JOIN lots lt ON lt.id = r.lot_id
                                  JOIN items li ON li.id = lt.item_id
                                 WHERE r.inventory_movement_line_id = l.id), '') || ']', ';' ORDER BY l.line_no) AS body
      FROM inventory_movement_lines l JOIN items i ON i.id = l.item_id JOIN locations loc ON loc.id = l.location_id
     GROUP BY l.movement_id
), movements AS (
    SELECT m.id, 'mv:' || m.movement_type || '|' || m.occurred_at::text || '|' || coalesce(m.external_ref, '') || '|'
                 || coalesce(m.notes, '') || '|' || coalesce(lines.body, '') AS label
      FROM inventory_movements m LEFT JOIN lines ON lines.movement_id = m.id
), mlines AS (
    SELECT l.id, mv.label || '#' || l.line_no AS label
      FROM inventory_movement_lines l JOIN movements mv ON mv.id = l.movement_id
)
SELECT id::text, 'item:' || sku FROM items
UNION ALL SELECT id::text, 'loc:' || code FROM locations
UNION ALL SELECT id::text, 'vendor:' || code FROM vendors
UNION ALL SELECT id::text, 'customer:' || code FROM customers
UNION ALL SELECT g.id::text, 'gs1:' || target || ':' || scheme || ':' || digits || ':' || extension FROM gs1_identifiers g
UNION ALL SELECT l.id::text, 'lot:' || i.sku || '/' || l.lot_code FROM lots l JOIN items i ON i.id = l.item_id
UNION ALL SELECT id::text, 'wo:' || number FROM work_orders
UNION ALL SELECT id::text, 'so:' || number FROM sales_orders
UNION ALL SELECT l.id::text, 'sol:' || o.number || '#' || l.line_no FROM sales_order_lines l JOIN sales_orders o ON o.id = l.sales_order_id
UNION ALL SELECT id::text, label FROM movements
UNION ALL SELECT id::text, label FROM mlines
UNION ALL SELECT r.id::text, ml.label || '/' || lt.lot_code FROM inventory_movement_lots r
          JOIN mlines ml ON ml.id = r.inventory_movement_line_id JOIN lots lt ON lt.id = r.lot_id
UNION ALL SELECT e.id::text, 'ex:' || coalesce(e.external_ref, '') || '|' || w.number || '|' || e.occurred_at::text
          FROM work_order_executions e JOIN work_orders w ON w.id = e.work_order_id
UNION ALL SELECT s.id::text, 'sh:' || coalesce(s.external_ref, '') || '|' || o.number
          FROM sales_order_shipments s JOIN sales_orders o ON o.id = s.sales_order_id
UNION ALL SELECT x.id::text, 'shl:' || coalesce(s.external_ref, '') || '|' || ml.label
          FROM sales_order_shipment_lines x JOIN sales_order_shipments s ON s.id = x.sales_order_shipment_id
          JOIN mlines ml ON ml.id = x.inventory_movement_line_id
UNION ALL SELECT k.id::text, 'slk:' || coalesce(s.external_ref, '') || '|' || k.inventory_movement_lot_id::text
          FROM shipment_lot_links k JOIN sales_order_shipments s ON s.id = k.sales_order_shipment_id
UNION ALL SELECT k.id::text, 'wlk:' || coalesce(e.external_ref, '') || '|' || k.role || '|' || k.inventory_movement_lot_id::text
          FROM work_order_lot_links k JOIN work_order_executions e ON e.id = k.work_order_execution_id
UNION ALL SELECT id::text, 'ev:' || event_key FROM epcis_events
UNION ALL SELECT id::text, 'job' FROM epcis_capture_jobs
"""


def labels(conn) -> dict[str, str]:
    """id -> label of every row that has an id (link labels name their lot row by its label)."""
    out = {r[0]: r[1] for r in conn.execute(sa.text(_LABELS))}
    for k, v in out.items():
        if v.startswith(("slk:", "wlk:")):
            out[k] = UUID.sub(lambda m: out.get(m.group(0), "?"), v)
    return out


def _plain(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: ("declared" if k == "declared_at" and v is not None else _plain(v, names))
                for k, v in value.items() if k not in WRITTEN_AT}
    if isinstance(value, list):
        return [_plain(v, names) for v in value]
    if isinstance(value, str):
        return UUID.sub(lambda m: names.get(m.group(0), "uuid?"), value)
    return value


def _key(row: Any) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def fingerprint(conn) -> dict[str, list]:
    """Every table's rows as sorted plain JSON, and this transaction's audit entries (see module doc)."""
    names = labels(conn)
    out: dict[str, list] = {}
    for table in TABLES:
        rows = [json.loads(r[0], parse_float=Decimal) for r in
                conn.execute(sa.text(f"SELECT to_jsonb(t)::text FROM {table} t"))]  # noqa: S608 — our table names
        out[table] = sorted((_plain(r, names) for r in rows), key=_key)
    audit = conn.execute(sa.text(
        "SELECT actor, actor_kind, db_role, table_name, record_id, operation, old_values::text, new_values::text, reason"
        "  FROM audit_log WHERE txid = txid_current()"
    )).all()
    out["audit_log"] = sorted((_plain({
        "actor": a.actor, "actor_kind": a.actor_kind, "db_role": a.db_role, "table": a.table_name,
        "record": a.record_id, "operation": a.operation,
        "old": json.loads(a.old_values, parse_float=Decimal) if a.old_values else None,
        "new": json.loads(a.new_values, parse_float=Decimal) if a.new_values else None, "reason": a.reason,
    }, names) for a in audit), key=_key)
    return out


def differences(a: dict[str, list], b: dict[str, list]) -> list[str]:
    """Per table, what one side has that the other has not (empty: equal)."""
    out = []
    for table in a:
        if a[table] != b[table]:
            ka, kb = [_key(r) for r in a[table]], [_key(r) for r in b[table]]
            only_a = [x for x in ka if x not in kb][:3]
            only_b = [x for x in kb if x not in ka][:3]
            out.append(f"{table}: {len(ka)} vs {len(kb)} rows; only per event: {only_a}; only bulk: {only_b}")
    return out
