"""Spreadsheet import: documented headers, every error by file, row and column at once, nothing written
on error, the same lot rules as every posting, CSV and XLSX alike."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from lotline.imports import service
from lotline.lots import service as lots_service
from lotline.models import Item, Lot


def write_csv(path, text: str):
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def write_xlsx(path, rows):
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def count(session, model):
    return session.scalar(sa.select(sa.func.count()).select_from(model))


ITEMS = """
sku,name,uom,lot_tracked,shelf_life_days,gtin,company_prefix_length
FLOUR,Wheat flour,kg,true,90,04012345111118,7
BREAD,Baguette,ea,yes,3,,
"""
PLACES = "code,name,kind\nWH,Warehouse,storage\nQA,Quarantine,quarantine\n"
VENDORS = "code,name,contact_email\nMILL,Moulin,q@mill.example\n"
CUSTOMERS = "code,name\nSHOP,Cafe\n"


def master(tmp_path):
    return [
        ("items", write_csv(tmp_path / "items.csv", ITEMS)),
        ("locations", write_csv(tmp_path / "locations.csv", PLACES)),
        ("vendors", write_csv(tmp_path / "vendors.csv", VENDORS)),
        ("customers", write_csv(tmp_path / "customers.csv", CUSTOMERS)),
    ]


def test_a_plant_log_imports_through_the_ordinary_postings(tmp_path, connection, session):
    receipts = write_xlsx(tmp_path / "receipts.xlsx", [
        ["receipt_ref", "vendor", "occurred_at", "item", "location", "quantity", "lot_code", "vendor_lot_code"],
        ["R-1", "MILL", "2026-01-05T08:00:00Z", "FLOUR", "WH", 100, "F-1", "MV-7"],
    ])
    production = write_csv(tmp_path / "production.csv", """
batch_ref,work_order,occurred_at,role,item,location,quantity,lot_code
B-1,WO-1,2026-01-06T08:00:00Z,consume,FLOUR,WH,30,F-1
B-1,WO-1,2026-01-06T08:00:00Z,produce,BREAD,WH,60,B-1
""")
    shipments = write_csv(tmp_path / "shipments.csv", """
shipment_ref,order,customer,shipped_at,item,location,quantity,lot_code
S-1,SO-1,SHOP,2026-01-07T08:00:00Z,BREAD,WH,40,B-1
""")
    report = service.import_files(master(tmp_path) + [("receipts", receipts), ("production", production), ("shipments", shipments)])
    assert report.problems == [] and report.written and report.postings == 9
    flour = session.scalar(sa.select(Lot).where(Lot.lot_code == "F-1"))
    assert flour.vendor_lot_code == "MV-7" and lots_service.lot_quantity(session, flour.id) == Decimal(70)
    bread = session.scalar(sa.select(Lot).where(Lot.lot_code == "B-1"))
    assert lots_service.lot_quantity(session, bread.id) == Decimal(20)


def test_a_sheet_with_deliberate_errors_lists_every_one_and_writes_nothing(tmp_path, connection, session):
    bad_items = write_csv(tmp_path / "items.csv", """
sku,name,uom,lot_tracked,shelf_life_days,colour
FLOUR,Wheat flour,kg,maybe,ninety,white
,Nameless,kg,true,3,
""")
    bad_receipts = write_csv(tmp_path / "receipts.csv", """
receipt_ref,vendor,occurred_at,item,location,quantity
R-1,MILL,5 January,FLOUR,WH,lots
""")
    report = service.import_files([("items", bad_items), ("receipts", bad_receipts)], dry_run=True)
    got = {(p.file.rsplit("/", 1)[-1], p.row, p.column) for p in report.problems}
    assert got == {
        ("items.csv", "1", "colour"),
        ("items.csv", "2", "lot_tracked"),
        ("items.csv", "2", "shelf_life_days"),
        ("items.csv", "3", "sku"),
        ("receipts.csv", "2", "occurred_at"),
        ("receipts.csv", "2", "quantity"),
    }
    assert not report.written and count(session, Item) == 0


def test_rule_violations_are_collected_across_postings_and_nothing_is_written(tmp_path, connection, session):
    transfers = write_csv(tmp_path / "transfers.csv", """
transfer_ref,occurred_at,item,from_location,to_location,quantity,lot_code
T-1,2026-01-06T08:00:00Z,FLOUR,WH,QA,500,F-1
T-2,2026-01-06T09:00:00Z,FLOUR,WH,NOWHERE,5,F-1
""")
    receipts = write_csv(tmp_path / "receipts.csv", """
receipt_ref,vendor,occurred_at,item,location,quantity,lot_code
R-1,MILL,2026-01-05T08:00:00Z,FLOUR,WH,100,F-1
R-2,MILL,2026-01-05T08:00:00Z,FLOUR,WH,100,
""")
    report = service.import_files(master(tmp_path) + [("receipts", receipts), ("transfers", transfers)])
    messages = [str(p) for p in report.problems]
    assert len(messages) == 3, messages
    assert "receipts.csv: row 3" in messages[0] and "lot_code" in messages[0]
    assert "transfers.csv: row 2: " in messages[1] and "lot F-1 of FLOUR has 100 kg at WH, 500 requested" in messages[1]
    assert "transfers.csv: row 3: unknown location 'NOWHERE'" in messages[2]
    assert not report.written and count(session, Item) == 0


def test_templates_carry_the_documented_headers(tmp_path):
    assert service.template("receipts", None).startswith("receipt_ref,vendor,occurred_at,item,location,quantity,lot_code")
    service.template("production", tmp_path / "p.xlsx")
    wb = load_workbook(tmp_path / "p.xlsx")
    assert [c.value for c in wb["production"][1]][:4] == ["batch_ref", "work_order", "occurred_at", "role"]
    assert wb["README"]["A2"].value == "batch_ref"


def test_the_cli_imports_and_reports_errors_with_exit_code_2(tmp_path, cli):
    items = write_csv(tmp_path / "items.csv", ITEMS)
    assert cli("import", "items", str(items), "--dry-run").code == 0
    bad = write_csv(tmp_path / "bad.csv", "sku,name\n,X\n")
    r = cli("import", "items", str(bad))
    assert r.code == 2 and "bad.csv: row 2, column sku: is required" in r.err
    r = cli("import", "template", "shipments")
    assert r.code == 0 and r.out.startswith("shipment_ref,order,customer")
