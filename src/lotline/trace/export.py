"""Trace results as one sortable CSV sheet (FSMA 204 style: a row per lot, edge, shipment,
receipt/return and on-hand position, so a spreadsheet can filter and sort it)."""

from __future__ import annotations

import csv

from lotline.reports import csv_safe
from lotline.trace import service as trace_service

CSV_COLUMNS = [
    "record",
    "lot_id",
    "lot_code",
    "sku",
    "item_name",
    "role",
    "depth",
    "status",
    "parent_lot_code",
    "child_lot_code",
    "quantity",
    "uom",
    "occurred_at",
    "location_code",
    "customer_code",
    "customer_name",
    "sales_order_number",
    "vendor_code",
    "vendor_lot_code",
    "document_id",
]


def csv_rows(result: trace_service.TraceResult) -> list[dict]:
    """One sortable sheet: a row per lot, edge, shipment, receipt/return and on-hand position."""
    lots = {x.lot_id: x for x in result.lots}
    q = trace_service.format_quantity
    rows: list[dict] = []
    for x in result.lots:
        rows.append(
            {
                "record": "lot",
                "lot_id": x.lot_id,
                "lot_code": x.lot_code,
                "sku": x.sku,
                "item_name": x.item_name,
                "role": x.role,
                "depth": x.depth,
                "status": x.status,
                "uom": x.uom,
                "vendor_lot_code": x.vendor_lot_code,
            }
        )
    for e in result.edges:
        child = lots[e.child_lot_id]
        rows.append(
            {
                "record": "edge",
                "lot_id": e.child_lot_id,
                "lot_code": child.lot_code,
                "sku": child.sku,
                "parent_lot_code": lots[e.parent_lot_id].lot_code,
                "child_lot_code": child.lot_code,
                "quantity": f"{q(e.consumed_quantity)} -> {q(e.produced_quantity)}",
                "occurred_at": e.occurred_at.isoformat(),
                "document_id": e.work_order_execution_id,
            }
        )
    for s in result.shipments:
        rows.append(
            {
                "record": "shipment",
                "lot_id": s.lot_id,
                "lot_code": lots[s.lot_id].lot_code,
                "sku": s.sku,
                "quantity": q(s.quantity),
                "uom": s.uom,
                "occurred_at": s.shipped_at.isoformat(),
                "customer_code": s.customer_code,
                "customer_name": s.customer_name,
                "sales_order_number": s.sales_order_number,
                "document_id": s.sales_order_shipment_id,
            }
        )
    for r in result.receipts:
        rows.append(
            {
                "record": r.movement_type,
                "lot_id": r.lot_id,
                "lot_code": lots[r.lot_id].lot_code,
                "sku": lots[r.lot_id].sku,
                "quantity": q(r.quantity),
                "uom": lots[r.lot_id].uom,
                "occurred_at": r.occurred_at.isoformat(),
                "location_code": r.location_code,
                "customer_code": r.customer_code,
                "customer_name": r.customer_name,
                "vendor_code": r.vendor_code,
                "vendor_lot_code": r.vendor_lot_code,
                "document_id": r.movement_id,
            }
        )
    for h in result.on_hand:
        rows.append(
            {
                "record": "on_hand",
                "lot_id": h.lot_id,
                "lot_code": h.lot_code,
                "sku": h.sku,
                "status": h.status,
                "quantity": q(h.quantity),
                "uom": h.uom,
                "location_code": h.location_code,
            }
        )
    return rows


def write_csv(result: trace_service.TraceResult, stream) -> None:
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in csv_rows(result):
        # Names and codes come from users: no cell may reach a spreadsheet as a formula.
        writer.writerow({k: csv_safe.value_cell(v) for k, v in row.items()})
