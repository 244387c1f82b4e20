"""Master data: natural keys are unique, references resolve by UUID or natural key."""

from __future__ import annotations

import pytest

from lotline.catalog import service as catalog
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.errors import DuplicateKey, NotFound
from lotline.models import Customer, Item, Location, Vendor
from tests.builders import make_item, make_location
from tests.support import refused_without_writes


@pytest.mark.parametrize(
    ("create", "data", "message"),
    [
        (
            catalog.create_item,
            ItemIn(sku="FLOUR", name="Other flour"),
            "an item with this SKU already exists",
        ),
        (
            catalog.create_location,
            LocationIn(code="FLOUR", name="x"),
            "a location with this code already exists",
        ),
        (catalog.create_vendor, PartyIn(code="FLOUR", name="x"), "a vendor with this code already exists"),
        (
            catalog.create_customer,
            PartyIn(code="FLOUR", name="x"),
            "a customer with this code already exists",
        ),
    ],
    ids=["item", "location", "vendor", "customer"],
)
def test_a_second_record_with_the_same_natural_key_is_refused(session, create, data, message):
    with_first = {
        catalog.create_item: lambda: make_item(session, "FLOUR"),
        catalog.create_location: lambda: make_location(session, "FLOUR"),
        catalog.create_vendor: lambda: catalog.create_vendor(session, PartyIn(code="FLOUR", name="V")),
        catalog.create_customer: lambda: catalog.create_customer(session, PartyIn(code="FLOUR", name="C")),
    }
    with_first[create]()
    with refused_without_writes(session, DuplicateKey, match=message) as tx:
        create(tx, data)


def test_references_resolve_by_uuid_or_natural_key(session):
    item = make_item(session, "FLOUR")
    assert catalog.resolve(session, Item, "FLOUR").id == item.id
    assert catalog.resolve(session, Item, str(item.id)).id == item.id
    assert catalog.resolve(session, Item, item.id).id == item.id


def test_resolve_many_resolves_several_references_in_one_call(session):
    a, b = make_location(session, "A"), make_location(session, "B")
    found = catalog.resolve_many(session, Location, ["A", str(b.id), "A"])
    assert {k: v.id for k, v in found.items()} == {"A": a.id, str(b.id): b.id}


@pytest.mark.parametrize(
    ("model", "label"), [(Item, "item"), (Location, "location"), (Vendor, "vendor"), (Customer, "customer")]
)
def test_an_unknown_reference_is_not_found_and_named(session, model, label):
    with pytest.raises(NotFound, match=f"unknown {label} 'NOPE' \\(receipt\\)") as info:
        catalog.resolve(session, model, "NOPE", context="receipt")
    assert info.value.details == {"kind": label, "ref": "NOPE"}


def test_an_unknown_uuid_is_not_found(session):
    import uuid

    ref = str(uuid.uuid4())
    with pytest.raises(NotFound, match=ref):
        catalog.resolve(session, Item, ref)


def test_created_items_keep_their_attributes(session):
    item = catalog.create_item(
        session, ItemIn(sku=" MILK ", name="Milk", uom="l", lot_tracked=True, shelf_life_days=10)
    )
    session.expire_all()
    stored = session.get(Item, item.id)
    assert (stored.sku, stored.uom, stored.lot_tracked, stored.shelf_life_days, stored.active) == (
        "MILK",
        "l",
        True,
        10,
        True,
    )


def test_a_batch_remembers_records_but_forgets_those_a_rolled_back_savepoint_made(session):
    catalog.remember_records(session)
    kept = catalog.create_item(session, ItemIn(sku="KEPT", name="Kept", uom="kg"))
    assert catalog.resolve(session, Item, "KEPT") is kept
    savepoint = session.begin_nested()
    catalog.create_item(session, ItemIn(sku="GONE", name="Gone", uom="kg"))
    catalog.resolve(session, Item, "GONE")
    savepoint.rollback()
    with pytest.raises(NotFound):
        catalog.resolve(session, Item, "GONE")
    assert catalog.resolve(session, Item, "KEPT").id == kept.id
