"""The spreadsheet kinds lotline imports and their columns (the documented headers and the templates).

Each kind is a list of columns: name, type, required, help. Headers are matched case-insensitively with
spaces and dashes read as underscores; unknown headers are refused (a typo must not silently drop data).
Rows that share a reference (``receipt_ref``, ``batch_ref``, ``shipment_ref``) form one posting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text | decimal | int | bool | time | date
    required: bool = False
    help: str = ""


def C(name, type="text", required=False, help=""):  # noqa: N802 - a table of columns reads better
    return Column(name, type, required, help)


_PARTY = [
    C("code", required=True, help="vendor/customer code (natural key)"),
    C("name", required=True),
    C("contact_email"),
    C("contact_phone"),
    C("address"),
    C("gln", help="GS1 GLN (13 digits, check digit verified)"),
    C("company_prefix_length", "int", help="6..12: where the GS1 company prefix ends (for URNs)"),
]

KINDS: dict[str, list[Column]] = {
    "items": [
        C("sku", required=True, help="item code (natural key)"),
        C("name", required=True),
        C("uom", help="stocking unit, default ea"),
        C("lot_tracked", "bool", help="true/false, default true"),
        C("shelf_life_days", "int"),
        C("standard_cost", "decimal"),
        C("gtin", help="GS1 GTIN-8/12/13/14 (check digit verified)"),
        C("company_prefix_length", "int", help="6..12: where the GS1 company prefix ends (for URNs)"),
    ],
    "locations": [
        C("code", required=True),
        C("name", required=True),
        C("kind", help="storage|receiving|quarantine|scrap|production|shipping, default storage"),
        C("gln", help="GS1 GLN of the site or location"),
        C("extension", help="SGLN extension"),
        C("company_prefix_length", "int"),
    ],
    "vendors": _PARTY,
    "customers": _PARTY,
    "receipts": [
        C("receipt_ref", required=True, help="rows with the same ref are one receipt (idempotent reference)"),
        C("vendor", required=True),
        C("occurred_at", "time", required=True),
        C("item", required=True),
        C("location", required=True),
        C("quantity", "decimal", required=True),
        C("lot_code", help="required for lot-tracked items"),
        C("vendor_lot_code"),
        C("manufactured_at", "time"),
        C("expires_at", "time", help="default: manufactured/received + the item's shelf life"),
        C("unit_cost", "decimal"),
    ],
    "transfers": [
        C("transfer_ref", help="idempotent reference (one transfer per row)"),
        C("occurred_at", "time", required=True),
        C("item", required=True),
        C("from_location", required=True),
        C("to_location", required=True),
        C("quantity", "decimal", required=True),
        C("lot_code", help="empty: first-expiry-first-out"),
    ],
    "production": [
        C("batch_ref", required=True, help="rows with the same ref are one execution (consumed + produced lots)"),
        C("work_order", required=True, help="created (for the first produced item) if missing"),
        C("occurred_at", "time", required=True),
        C("role", required=True, help="consume | produce"),
        C("item", required=True),
        C("location", required=True),
        C("quantity", "decimal", required=True),
        C("lot_code", help="produce: the new lot (lot-tracked items); consume: empty = first-expiry-first-out"),
        C("expires_at", "time", help="produce only"),
    ],
    "shipments": [
        C("shipment_ref", required=True, help="rows with the same ref are one shipment"),
        C("order", required=True, help="sales order number; created for the shipment if missing"),
        C("customer", required=True),
        C("shipped_at", "time", required=True),
        C("item", required=True),
        C("location", required=True),
        C("quantity", "decimal", required=True),
        C("lot_code", help="empty: first-expiry-first-out"),
        C("due_date", "date", help="for an order created here; default the shipping date"),
    ],
}


def normal(header: str) -> str:
    return str(header or "").strip().lower().replace(" ", "_").replace("-", "_")
