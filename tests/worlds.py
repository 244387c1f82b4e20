"""Worlds shared by several test folders, built through the real services (add + flush, never commit).

- ``w`` (a fixture; the posting tests' conftests import it): a small world of items, locations, a
  vendor and a customer, no stock — lot-tracked FLOUR (no shelf life), MILK (10 days), BREAD
  (5 days); untracked SALT; WH1, WH2, QUAR (quarantine), SCRAP.
- ``build_world(session)``: the recall tests' hand-built world with known recall answers:

      FLOUR F-1 (100 kg, received day 0) --WO-1 day 1 (40 kg)--> BREAD B-1 (80 ea)
                                         \\-WO-2 day 3 (20 kg)--> CAKE C-1 (50 ea) <-- SUGAR S-1 (10 kg)
      FLOUR F-2 (100 kg)                 --WO-3 day 1 (40 kg)--> BREAD B-2 (80 ea)
      SALT (untracked, 20 kg)

      SO-1 ALPHA  BREAD 30 from B-1 (day 2)      SO-2 BETA  CAKE 20 from C-1 (day 4)
      SO-3 GAMMA  BREAD 10 from B-2 (day 2)      SO-4 DELTA FLOUR 5 from F-1 (day 2)
      SO-5 GAMMA  SALT 3 (day 2)

  A recall of F-1 (now) reaches ALPHA, BETA and DELTA — never GAMMA; lots F-1 (target), B-1 and C-1
  (downstream). On hand afterwards: F-1 35 kg, B-1 50 ea, C-1 30 ea, all at WH1.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

import pytest

from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn
from lotline.lots import service as lots_service
from lotline.models import Customer, Item, Location, Lot
from tests.builders import (
    at,
    execute,
    make_customer,
    make_item,
    make_location,
    make_vendor,
    order,
    receive,
    ship,
)


@pytest.fixture
def w(session):
    """A small world: lot-tracked FLOUR (no shelf life), MILK (10 days), BREAD (5 days); untracked SALT."""
    return SimpleNamespace(
        flour=make_item(session, "FLOUR"),
        milk=make_item(session, "MILK", uom="l", shelf_life_days=10),
        salt=make_item(session, "SALT", lot_tracked=False),
        bread=make_item(session, "BREAD", uom="ea", shelf_life_days=5),
        wh1=make_location(session, "WH1"),
        wh2=make_location(session, "WH2"),
        quar=make_location(session, "QUAR", kind="quarantine"),
        scrap=make_location(session, "SCRAP", kind="scrap"),
        vendor=make_vendor(session, "MILL"),
        customer=make_customer(session, "SHOP"),
    )


@dataclass
class World:
    items: dict[str, Item]
    lots: dict[str, Lot]
    customers: dict[str, Customer]
    wh: Location
    qa: Location
    scrap: Location


def build_world(session) -> World:
    flour = make_item(session, "FLOUR", name="Wheat flour T55")
    sugar = make_item(session, "SUGAR", name="Cane sugar")
    bread = make_item(session, "BREAD", name="Sourdough bread", uom="ea")
    cake = make_item(session, "CAKE", name="Sponge cake", uom="ea")
    salt = make_item(session, "SALT", name="Sea salt", lot_tracked=False)
    wh = make_location(session, "WH1")
    qa = make_location(session, "QA", kind="quarantine")
    scrap = make_location(session, "SCRAP", kind="scrap")
    make_vendor(session)
    customers = {c: make_customer(session, c) for c in ("ALPHA", "BETA", "GAMMA", "DELTA")}
    lots = {
        "F-1": receive(session, flour, wh, "F-1", 100, vendor_lot_code="MILL-77"),
        "F-2": receive(session, flour, wh, "F-2", 100),
        "S-1": receive(session, sugar, wh, "S-1", 50),
    }
    inventory.receive(
        session,
        ReceiptIn(
            vendor="MILL",
            occurred_at=at(),
            lines=[{"item": "SALT", "location": "WH1", "quantity": Decimal(20)}],
        ),
    )
    execute(session, "WO-1", bread, [(flour, wh, 40, [("F-1", 40)])], [(wh, 80, "B-1")], when=at(1))
    execute(session, "WO-3", bread, [(flour, wh, 40, [("F-2", 40)])], [(wh, 80, "B-2")], when=at(1))
    execute(
        session,
        "WO-2",
        cake,
        [(flour, wh, 20, [("F-1", 20)]), (sugar, wh, 10, [("S-1", 10)])],
        [(wh, 50, "C-1")],
        when=at(3),
    )
    order(session, "SO-1", customers["ALPHA"], [(bread, 30, None)])
    ship(session, "SO-1", [(1, wh, 30, [("B-1", 30)])], when=at(2))
    order(session, "SO-3", customers["GAMMA"], [(bread, 10, None)])
    ship(session, "SO-3", [(1, wh, 10, [("B-2", 10)])], when=at(2))
    order(session, "SO-4", customers["DELTA"], [(flour, 5, None)])
    ship(session, "SO-4", [(1, wh, 5, [("F-1", 5)])], when=at(2))
    order(session, "SO-5", customers["GAMMA"], [(salt, 3, None)])
    ship(session, "SO-5", [(1, wh, 3, None)], when=at(2))
    order(session, "SO-2", customers["BETA"], [(cake, 20, None)])
    ship(session, "SO-2", [(1, wh, 20, [("C-1", 20)])], when=at(4))
    for code in ("B-1", "B-2", "C-1"):
        lots[code] = lots_service.find_lot(session, code)
    return World(
        items={"FLOUR": flour, "SUGAR": sugar, "BREAD": bread, "CAKE": cake, "SALT": salt},
        lots=lots,
        customers=customers,
        wh=wh,
        qa=qa,
        scrap=scrap,
    )
