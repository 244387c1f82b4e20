"""The demo: a small bakery's fortnight, posted through the real services.

Builds a fresh ``lotline_demo`` database on the configured server (embedded by default), migrates
it, loads master data, posts receipts, transfers, two-level production, shipments, a return and a
scrap, then shows lots, on-hand by lot and location, and postings the rules refuse — with why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from lotline import db, errors
from lotline.auth import service as auth_service
from lotline.auth.schemas import TokenIn, UserIn
from lotline.catalog import service as catalog
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.db import engine as engine_mod
from lotline.db import migrations
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn, ReturnIn, ScrapIn, TransferIn
from lotline.lots import service as lots_service
from lotline.lots.schemas import LotStatusChange
from lotline.production import service as production
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.sales import service as sales
from lotline.sales.schemas import SalesOrderIn, ShipmentIn
from lotline.types import utcnow
from lotline.vocab import LocationKind, LotStatus

DEMO_DATABASE = "lotline_demo"

ITEMS = [
    ItemIn(sku="FLOUR-T55", name="Wheat flour T55", uom="kg", shelf_life_days=180, standard_cost=Decimal("0.62")),
    ItemIn(sku="SALT", name="Sea salt, fine", uom="kg", shelf_life_days=1000, standard_cost=Decimal("0.40")),
    ItemIn(sku="YEAST", name="Fresh yeast", uom="kg", shelf_life_days=30, standard_cost=Decimal("3.10")),
    ItemIn(sku="WATER", name="Process water", uom="l", lot_tracked=False),
    ItemIn(sku="BOX-12", name="Carton for 12 loaves", uom="ea", lot_tracked=False, standard_cost=Decimal("0.35")),
    ItemIn(sku="DOUGH", name="Baguette dough", uom="kg", shelf_life_days=2, standard_cost=Decimal("0.80")),
    ItemIn(sku="BAGUETTE", name="Baguette 250 g", uom="ea", shelf_life_days=4, standard_cost=Decimal("0.30")),
]
LOCATIONS = [
    LocationIn(code="RECV", name="Goods in", kind="receiving"),
    LocationIn(code="WH", name="Dry store", kind=LocationKind.STORAGE),
    LocationIn(code="LINE1", name="Bakery line 1", kind="production"),
    LocationIn(code="DISPATCH", name="Dispatch bay", kind="shipping"),
    LocationIn(code="QA-HOLD", name="Quarantine cage", kind=LocationKind.QUARANTINE),
    LocationIn(code="SCRAP", name="Waste", kind=LocationKind.SCRAP),
]
VENDORS = [
    PartyIn(code="MOULIN", name="Moulin de la Vallée", contact_email="quality@moulin.example"),
    PartyIn(code="SALINES", name="Salines du Sud", contact_email="qa@salines.example"),
    PartyIn(code="LEVURE", name="Levure & Co", contact_email="lots@levure.example"),
]
CUSTOMERS = [
    PartyIn(code="CAFE-NORD", name="Café du Nord", contact_email="orders@cafenord.example", contact_phone="+33 1 23 45 67 89"),
    PartyIn(code="HOTEL-RIVE", name="Hôtel Rive Gauche", contact_email="kitchen@rive.example"),
    PartyIn(code="EPICERIE", name="Épicerie Martin", contact_email="martin@epicerie.example"),
]


@dataclass
class DemoReport:
    database_url: str
    steps: list[str] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # (attempt, error code, message)
    lots: list[dict] = field(default_factory=list)
    on_hand: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)  # name, roles, password, token (demo only)


# Demo users: one per kind of person. Their passwords are public (printed by the demo): a demo
# database is for trying lotline out, never for records.
DEMO_USERS = [
    ("admin", "Ada Admin", ["admin"]),
    ("quality", "Quentin Quality", ["quality"]),
    ("operator", "Olivia Operator", ["operator"]),
    ("viewer", "Victor Viewer", ["viewer"]),
]
DEMO_PASSWORD_SUFFIX = "-demo-password"


def _create_demo_users(report: DemoReport) -> None:
    with db.transaction(actor="os:demo") as s:
        for name, full_name, roles in DEMO_USERS:
            password = name + DEMO_PASSWORD_SUFFIX
            auth_service.add_user(s, UserIn(name=name, full_name=full_name, roles=roles, password=password))
            token = auth_service.create_token(s, TokenIn(user=name, name="demo")).secret
            report.users.append({"name": name, "roles": ",".join(roles), "password": password, "token": token})


def prepare_database(name: str = DEMO_DATABASE) -> str:
    """A fresh, migrated demo database; the process-wide engine is pointed at it.

    Raises InvalidInput for a name that is not a plain lower-case identifier (it is quoted into DDL).
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise errors.InvalidInput(
            f"demo database name {name!r} must be 1-63 lower-case letters, digits or underscores, not starting with a digit"
        )
    url = engine_mod.sibling_database_url(name, recreate=True)
    engine = engine_mod.create_engine(url)
    migrations.upgrade(engine)
    engine_mod.reset_engine(engine)
    return url


def run(progress: Callable[[str], None] = lambda _msg: None, database: str = DEMO_DATABASE) -> DemoReport:  # noqa: C901 — the demo's story, one linear sequence of steps
    url = prepare_database(database)
    report = DemoReport(database_url=url)
    t0 = utcnow().replace(microsecond=0) - timedelta(days=12)

    def day(n: float, hour: int = 8) -> datetime:
        return t0 + timedelta(days=n, hours=hour)

    def step(message: str) -> None:
        report.steps.append(message)
        progress(message)

    _create_demo_users(report)
    step(f"{len(DEMO_USERS)} demo users (admin, quality, operator, viewer), each with a password and an API token")
    # The demo's postings are the operator's and the lot hold is quality's: the audit trail says so.
    db.set_actor("user:operator")

    with db.transaction() as s:
        for item in ITEMS:
            catalog.create_item(s, item)
        for loc in LOCATIONS:
            catalog.create_location(s, loc)
        for v in VENDORS:
            catalog.create_vendor(s, v)
        for c in CUSTOMERS:
            catalog.create_customer(s, c)
    step(f"master data: {len(ITEMS)} items, {len(LOCATIONS)} locations, {len(VENDORS)} vendors, {len(CUSTOMERS)} customers")

    receipts = [
        # goods arrive at 05:00, before the morning transfers to the line
        ("MOULIN", "FLOUR-T55", "1000", "F2411-A", "MV-88121", day(0, 5), "PO-7001"),
        ("MOULIN", "FLOUR-T55", "800", "F2411-B", "MV-88190", day(3, 5), "PO-7002"),
        ("SALINES", "SALT", "200", "S-0577", "SS-2024-77", day(0, 5), "PO-7003"),
        ("LEVURE", "YEAST", "40", "Y-1203", "LC-1203", day(1, 5), "PO-7004"),
        ("LEVURE", "YEAST", "40", "Y-1210", "LC-1210", day(5, 5), "PO-7005"),
    ]
    for vendor, sku, qty, lot, vendor_lot, when, ref in receipts:
        with db.transaction() as s:
            inventory.receive(
                s,
                ReceiptIn(
                    vendor=vendor,
                    occurred_at=when,
                    external_ref=ref,
                    lines=[
                        {
                            "item": sku,
                            "location": "RECV",
                            "quantity": qty,
                            "lots": [{"lot_code": lot, "vendor_lot_code": vendor_lot, "quantity": qty}],
                        }
                    ],
                ),
            )
    with db.transaction() as s:
        inventory.receive(
            s,
            ReceiptIn(
                vendor="MOULIN",
                occurred_at=day(0, 9),
                external_ref="PO-7006",
                lines=[
                    {"item": "WATER", "location": "LINE1", "quantity": "5000"},
                    {"item": "BOX-12", "location": "WH", "quantity": "600"},
                ],
            ),
        )
    step(f"{len(receipts) + 1} receipts posted (flour, salt, yeast lots with vendor lot codes; water and cartons untracked)")

    for sku, qty, lot in [("FLOUR-T55", "1000", "F2411-A"), ("SALT", "200", "S-0577"), ("YEAST", "40", "Y-1203")]:
        with db.transaction() as s:
            inventory.transfer(
                s,
                TransferIn(item=sku, from_location="RECV", to_location="LINE1", quantity=qty, lots=[{"lot": lot, "quantity": qty}], occurred_at=day(1, 7)),
            )
    with db.transaction() as s:
        inventory.transfer(s, TransferIn(item="FLOUR-T55", from_location="RECV", to_location="WH", quantity="800", occurred_at=day(3, 12)))
    step("4 transfers: goods in → line 1 / dry store (lots keep their identity)")

    batches = [
        ("WO-D-101", "WO-B-101", day(2), "D-101", "B-101", "300", "6", "3", "180", "480", "440"),
        ("WO-D-102", "WO-B-102", day(4), "D-102", "B-102", "350", "7", "3.5", "210", "560", "520"),
        ("WO-D-103", "WO-B-103", day(7), "D-103", "B-103", "320", "6.4", "3.2", "190", "510", "480"),
    ]
    for wo_dough, wo_bread, when, dough_lot, bread_lot, flour, salt, yeast, water, dough, loaves in batches:
        with db.transaction() as s:
            production.create_work_order(s, WorkOrderIn(number=wo_dough, item="DOUGH", planned_quantity=dough))
            production.execute(
                s,
                wo_dough,
                ExecutionIn(
                    occurred_at=when,
                    external_ref=f"EXE-{wo_dough}",
                    consume=[
                        {"item": "FLOUR-T55", "location": "LINE1", "quantity": flour},
                        {"item": "SALT", "location": "LINE1", "quantity": salt},
                        {"item": "YEAST", "location": "LINE1", "quantity": yeast},
                        {"item": "WATER", "location": "LINE1", "quantity": water},
                    ],
                    produce=[{"location": "LINE1", "quantity": dough, "lot_code": dough_lot}],
                ),
            )
            production.create_work_order(s, WorkOrderIn(number=wo_bread, item="BAGUETTE", planned_quantity=loaves))
            production.execute(
                s,
                wo_bread,
                ExecutionIn(
                    occurred_at=when + timedelta(hours=3),
                    external_ref=f"EXE-{wo_bread}",
                    consume=[
                        {"item": "DOUGH", "location": "LINE1", "quantity": dough},
                        {"item": "BOX-12", "location": "WH", "quantity": str(int(loaves) // 12 + 1)},
                    ],
                    produce=[{"location": "DISPATCH", "quantity": loaves, "lot_code": bread_lot}],
                ),
            )
        if when == day(4):
            # The line needs more flour: the second flour lot goes from the dry store to the line.
            with db.transaction() as s:
                inventory.transfer(
                    s,
                    TransferIn(item="FLOUR-T55", from_location="WH", to_location="LINE1", quantity="400", occurred_at=day(5, 6)),
                )
                inventory.transfer(
                    s,
                    TransferIn(item="YEAST", from_location="RECV", to_location="LINE1", quantity="40", occurred_at=day(5, 6)),
                )
    step("3 dough batches and 3 baking batches executed (lot genealogy recorded flour → dough → baguette)")

    orders = [
        ("SO-5001", "CAFE-NORD", day(2, 14), [("BAGUETTE", "240", 4)], [(1, "180", day(2, 16)), (1, "60", day(4, 16))]),
        ("SO-5002", "HOTEL-RIVE", day(3, 9), [("BAGUETTE", "300", 5)], [(1, "300", day(5, 6))]),
        ("SO-5003", "EPICERIE", day(6, 9), [("BAGUETTE", "500", 8)], [(1, "400", day(7, 15))]),
    ]
    for number, customer, ordered, lines, shipments in orders:
        with db.transaction() as s:
            sales.create_order(
                s,
                SalesOrderIn(
                    number=number,
                    customer=customer,
                    ordered_at=ordered,
                    lines=[{"item": i, "quantity": q, "due_date": (t0 + timedelta(days=d)).date()} for i, q, d in lines],
                ),
            )
        for n, (line_no, qty, when) in enumerate(shipments, start=1):
            with db.transaction() as s:
                sales.ship(
                    s,
                    number,
                    ShipmentIn(shipped_at=when, external_ref=f"{number}-SHIP-{n}", lines=[{"line_no": line_no, "location": "DISPATCH", "quantity": qty}]),
                )
    step("3 sales orders, 4 shipments (lots picked first-expiry-first-out)")

    with db.transaction() as s:
        inventory.return_goods(
            s,
            ReturnIn(
                customer="HOTEL-RIVE",
                occurred_at=day(6, 10),
                lines=[{"item": "BAGUETTE", "location": "QA-HOLD", "quantity": "12", "lots": [{"lot": "B-102", "quantity": "12"}]}],
            ),
        )
        inventory.scrap(
            s,
            ScrapIn(item="BAGUETTE", location="QA-HOLD", quantity="12", lots=[{"lot": "B-102", "quantity": "12"}], occurred_at=day(6, 11)),
        )
    step("a customer return of 12 loaves into quarantine, then scrapped")

    with db.transaction(actor="user:quality") as s:
        lots_service.change_status(
            s, lots_service.find_lot(s, "Y-1210", item_ref="YEAST"), LotStatusChange(status=LotStatus.BLOCKED, reason="supplier notice LC-1210")
        )
    step("yeast lot Y-1210 blocked after a supplier notice")

    with db.transaction() as s:
        sales.create_order(
            s,
            SalesOrderIn(
                number="SO-5004", customer="EPICERIE", ordered_at=day(8, 7), lines=[{"item": "BAGUETTE", "quantity": "1000", "due_date": day(10).date()}]
            ),
        )
    attempts: list[tuple[str, Callable]] = [
        (
            "ship 500 baguettes on SO-5004 from lot B-103 (480 were made)",
            lambda s: sales.ship(
                s,
                "SO-5004",
                ShipmentIn(
                    shipped_at=day(8),
                    lines=[{"line_no": 1, "location": "DISPATCH", "quantity": "500", "lots": [{"lot": "B-103", "quantity": "500"}]}],
                ),
            ),
        ),
        (
            "ship 10 baguettes on SO-5004 from lot B-102, past its expiry",
            lambda s: sales.ship(
                s,
                "SO-5004",
                ShipmentIn(
                    shipped_at=day(9),
                    lines=[{"line_no": 1, "location": "DISPATCH", "quantity": "10", "lots": [{"lot": "B-102", "quantity": "10"}]}],
                ),
            ),
        ),
        (
            "consume the blocked yeast lot Y-1210 in a new dough batch",
            lambda s: (
                production.create_work_order(s, WorkOrderIn(number="WO-D-104", item="DOUGH", planned_quantity="100")),
                production.execute(
                    s,
                    "WO-D-104",
                    ExecutionIn(
                        occurred_at=day(9),
                        consume=[{"item": "YEAST", "location": "LINE1", "quantity": "1", "lots": [{"lot": "Y-1210", "quantity": "1"}]}],
                        produce=[{"location": "LINE1", "quantity": "100", "lot_code": "D-104"}],
                    ),
                ),
            ),
        ),
        (
            "ship 150 more on SO-5003, which has 100 left to ship",
            lambda s: sales.ship(s, "SO-5003", ShipmentIn(shipped_at=day(9), lines=[{"line_no": 1, "location": "DISPATCH", "quantity": "150"}])),
        ),
        (
            "receive flour with lot rows summing to 90 on a 100 kg line",
            lambda s: inventory.receive(
                s,
                ReceiptIn(vendor="MOULIN", occurred_at=day(9), lines=[{"item": "FLOUR-T55", "location": "RECV", "quantity": "100", "lots": [{"lot_code": "F2412-X", "quantity": "90"}]}]),
            ),
        ),
    ]
    for attempt, action in attempts:
        try:
            with db.transaction() as s:
                action(s)
        except errors.LotlineError as exc:
            report.refused.append((attempt, exc.code, exc.message))
        else:  # pragma: no cover - the demo data is built so these are refused
            report.refused.append((attempt, "ACCEPTED", "unexpectedly accepted"))
    step(f"{len(report.refused)} postings attempted that break a rule — all refused, nothing written")

    with db.read_snapshot() as s:
        report.lots = [
            {"sku": sku, "lot_code": lot.lot_code, "status": lot.status, "vendor_lot_code": lot.vendor_lot_code, "expires_at": lot.expires_at, "on_hand": lots_service.lot_quantity(s, lot.id)}
            for lot, sku in lots_service.list_lots(s)
        ]
        report.on_hand = lots_service.on_hand(s)
    db.set_actor(None)
    return report

