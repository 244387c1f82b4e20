"""Master data: natural keys are unique, references resolve by UUID or natural key."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lotline.catalog import service as catalog
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.errors import DuplicateKey, NotFound
from lotline.inventory import refs
from lotline.models import Customer, Item, Location, Vendor
from tests.builders import make_item, make_location, make_vendor
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


def _columns(session, record):
    table = type(record).__table__
    return session.execute(sa.select(table).where(table.c.id == record.id)).mappings().one()


def test_records_read_by_sql_are_the_sessions_own_objects_as_an_orm_query_returns_them(session):
    item, location = make_item(session, "FLOUR", shelf_life_days=30), make_location(session, "A")
    make_vendor(session, "MILL")
    session.expunge_all()  # nothing in the identity map: the records are made from the rows
    found = refs.resolve_all(session, {Item: ["FLOUR"], Location: [str(location.id)], Vendor: ["MILL"]})
    flour, a, mill = found[Item]["FLOUR"], found[Location][str(location.id)], found[Vendor]["MILL"]
    for record in (flour, a, mill):
        state = sa.inspect(record)
        assert state.persistent and not state.expired_attributes
        assert dict(_columns(session, record)) == {c: getattr(record, c) for c in _columns(session, record)}
    assert not session.dirty and not session.new
    assert session.get(Item, item.id) is flour  # the identity map's object from now on
    # ... and an object the session already has is the one returned, as an ORM query would
    again = refs.resolve_all(session, {Item: [item.id], Location: ["A"]})
    assert again[Item][item.id] is flour and again[Location]["A"] is a
    assert catalog.resolve(session, Location, "A") is a


def test_records_made_but_not_flushed_in_this_transaction_are_found(session):
    session.add(Item(sku="SUGAR", name="Sugar", uom="kg"))
    session.add(Location(code="B", name="B", kind="storage"))
    found = refs.resolve_all(session, {Item: ["SUGAR"], Location: ["B"]})
    assert found[Item]["SUGAR"].name == "Sugar" and found[Location]["B"].code == "B"
    assert catalog.resolve(session, Item, "SUGAR") is found[Item]["SUGAR"]


def test_an_unknown_reference_among_several_kinds_is_refused_by_the_catalog(session):
    make_item(session, "FLOUR")
    with pytest.raises(NotFound, match=r"unknown location 'NOWHERE' \(receipt\)"):
        refs.resolve_all(session, {Item: ["FLOUR"], Location: ["NOWHERE"]}, context="receipt")


def test_an_expired_record_is_filled_from_the_row_read_as_an_orm_query_fills_it(session):
    item = make_item(session, "FLOUR", shelf_life_days=30)
    session.execute(sa.update(Item).where(Item.id == item.id).values(name="Flour T55"))
    session.expire(item)  # (as a rolled-back savepoint leaves it)
    found = refs.resolve_all(session, {Item: ["FLOUR"], Location: [make_location(session, "A").id]})
    assert found[Item]["FLOUR"] is item
    assert not sa.inspect(item).expired_attributes
    assert item.name == "Flour T55" and item.shelf_life_days == 30
