from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.builders import make_customer, make_item, make_location, make_vendor


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
