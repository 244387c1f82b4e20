"""FSMA 204 sortable spreadsheet: the reference writers (pure functions over event rows) that the
database rendering is held equal to (test_fsma204_export.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl

from tests.reports import fsma204_reference as fsma204

T = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

EVENTS = {
    "receiving": [
        {
            "event_at": T,
            "lot_code": "F-1",
            "vendor_lot_code": "V-9",
            "sku": "FLOUR",
            "item_name": "Flour",
            "quantity": Decimal("100.000000"),
            "uom": "kg",
            "location_code": "WH1",
            "location_name": "Main",
            "source": "Mill",
            "reference_number": "PO-1",
        },
    ],
    "transformation": [
        {
            "event_at": T + timedelta(days=1),
            "lot_code": "C-1",
            "vendor_lot_code": None,
            "sku": "CAKE",
            "item_name": "Cake",
            "quantity": Decimal(50),
            "uom": "ea",
            "location_code": "WH1",
            "location_name": "WH1",
            "reference_number": "WO-2",
            "input_lot_code": code,
            "input_sku": sku,
            "input_item_name": name,
            "input_quantity": Decimal(q),
            "input_uom": "kg",
        }
        for code, sku, name, q in (("S-1", "SUGAR", "Sugar", 10), ("F-1", "FLOUR", "Flour", 20))
    ],
    "shipping": [
        {
            "shipped_at": T + timedelta(days=2),
            "lot_code": "C-1",
            "sku": "CAKE",
            "item_name": "Cake",
            "quantity": Decimal(20),
            "uom": "ea",
            "location_code": "WH1",
            "location_name": "WH1",
            "customer_name": "Beta",
            "customer_code": "BETA",
            "sales_order_number": "SO-2",
        },
        # a shipment recorded in another time zone, earlier than the transformation in UTC
        {
            "shipped_at": datetime(2026, 3, 1, 23, 0, tzinfo=timezone(timedelta(hours=5))),
            "lot_code": None,
            "sku": "SALT",
            "item_name": "Salt",
            "quantity": Decimal(3),
            "uom": "kg",
            "location_code": "WH1",
            "location_name": None,
            "customer_name": "Gamma",
            "customer_code": "GAMMA",
            "sales_order_number": "SO-5",
        },
    ],
}


def test_rows_hold_the_key_data_elements_sorted_by_time_with_one_row_per_input_lot():
    table = fsma204.rows(EVENTS)
    assert [(r.event_type, r.traceability_lot_code, r.input_traceability_lot_code) for r in table] == [
        ("Receiving", "F-1", None),
        ("Shipping", None, None),  # 18:00 UTC on day 0
        ("Transformation", "C-1", "F-1"),
        ("Transformation", "C-1", "S-1"),
        ("Shipping", "C-1", None),
    ]
    rec = table[0]
    assert rec.event_date.isoformat() == "2026-03-01" and rec.event_time_utc == "09:30:00"
    assert rec.location == "WH1 - Main" and rec.tlc_source_reference == "V-9"
    assert rec.reference_document_type == "Receiving record" and rec.reference_document_number == "PO-1"
    assert table[1].event_time_utc == "18:00:00" and table[1].location == "WH1"
    t = table[2]
    assert t.input_product_description == "Flour (FLOUR)" and t.input_quantity == Decimal(20)
    assert t.reference_document_type == "Work order"
    assert table[4].previous_source_or_next_recipient == "Beta (BETA)"
    assert table[0]._fields == tuple(fsma204.KEYS)


def test_csv_has_a_header_and_plain_decimals():
    text = fsma204.to_csv(fsma204.rows(EVENTS))
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == [label for _, label in fsma204.COLUMNS]
    assert parsed[1][7] == "100" and parsed[1][1] == "2026-03-01"
    assert len(parsed) == 6


def test_xlsx_is_sortable_with_typed_cells():
    data = fsma204.to_xlsx(fsma204.rows(EVENTS), title="FSMA 204 RC-2026-0001 with a long title")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.active
    assert ws.title == "FSMA 204 RC-2026-0001 with a lo"  # Excel's 31-character limit
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:Q6"
    assert ws["A1"].value == "Event type" and ws["A1"].font.bold
    assert ws["B2"].value.date().isoformat() == "2026-03-01" and ws["H2"].value == 100


def test_an_empty_trace_still_has_its_header():
    assert fsma204.to_csv(fsma204.rows({})).count("\r\n") == 1
    ws = openpyxl.load_workbook(io.BytesIO(fsma204.to_xlsx([]))).active
    assert ws.max_row == 1
