"""Master data: items, locations, vendors, customers — and resolving the references users type.

A reference is either a UUID or the record's natural key (SKU, location/vendor/customer code), so
the CLI and API accept ``FLOUR-T55`` as readily as an id.

Raises: NotFound (unknown reference), DuplicateKey (code already used, via the DB translation).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TypeVar

import sqlalchemy as sa
from psycopg import sql as pgsql
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.util import identity_key

from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.db import pages, sql
from lotline.errors import NotFound
from lotline.models import Customer, Item, Location, Vendor

Record = Item | Location | Vendor | Customer
M = TypeVar("M", bound=Record)

_NATURAL_KEY = {Item: "sku", Location: "code", Vendor: "code", Customer: "code"}
_LABEL = {Item: "item", Location: "location", Vendor: "vendor", Customer: "customer"}
_PARTY_FIELDS = ("id", "code", "name", "contact_email", "contact_phone", "address")
# The fields a record shows to people and scripts (CLI tables/--json, API bodies), id first.
FIELDS = {
    Item: ("id", "sku", "name", "uom", "lot_tracked", "shelf_life_days", "standard_cost", "active"),
    Location: ("id", "code", "name", "kind", "active"),
    Vendor: _PARTY_FIELDS,
    Customer: _PARTY_FIELDS,
}


def as_row(record: Item | Location | Vendor | Customer) -> dict:
    """A master-data record as a plain dict of its FIELDS."""
    return {f: getattr(record, f) for f in FIELDS[type(record)]}


def as_uuid(ref: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(ref, uuid.UUID):
        return ref
    try:
        return uuid.UUID(str(ref))
    except ValueError:
        return None


def resolve(session: Session, model: type[M], ref: str | uuid.UUID, *, context: str = "") -> M:
    """One record by UUID or natural key; NotFound names what was looked for."""
    found = resolve_many(session, model, [ref], context=context)
    return found[ref]


def resolve_many(
    session: Session, model: type[M], refs: Iterable[str | uuid.UUID], *, context: str = ""
) -> dict[str | uuid.UUID, M]:
    """Several records in one query, keyed by the reference as given.

    Inside a batch (``remember_records``) records already resolved in this session are not
    queried again.
    """
    refs = list(dict.fromkeys(refs))
    memo: dict | None = session.info.get(_MEMO)
    if memo is not None:
        known = {r: memo[(model, str(r))] for r in refs if (model, str(r)) in memo}
        if len(known) == len(refs):
            return known
    ids = {r: as_uuid(r) for r in refs}
    wanted_ids = [i for i in ids.values() if i is not None]
    wanted_keys = [str(r) for r, i in ids.items() if i is None]
    session.flush()  # (as the ORM's autoflush would: records made in this transaction are found)
    rows = records(session, model, sql.rows(session, *lookup(model, wanted_ids, wanted_keys), kind="dict"))
    by_id = {row.id: row for row in rows}
    by_key = {getattr(row, _NATURAL_KEY[model]): row for row in rows}
    out: dict[str | uuid.UUID, M] = {}
    for ref, rid in ids.items():
        row = by_id.get(rid) if rid is not None else by_key.get(str(ref))
        if row is None and rid is not None:
            row = by_key.get(str(ref))  # a natural key that happens to look like a UUID
        if row is None:
            where = f" ({context})" if context else ""
            raise NotFound(
                f"unknown {_LABEL[model]} {str(ref)!r}{where}; list them with `lotline {_LABEL[model]} list`",
                kind=_LABEL[model],
                ref=str(ref),
            )
        out[ref] = row
        if memo is not None:
            memo[(model, str(ref))] = memo[(model, str(row.id))] = row
    return out


_LOOKUPS: dict[type, pgsql.Composed] = {}


def _lookup_sql(model: type[M]) -> pgsql.Composed:
    if (done := _LOOKUPS.get(model)) is not None:
        return done
    _LOOKUPS[model] = statement = pgsql.SQL(
        "SELECT {} FROM {} WHERE id = ANY(%(ids)s::uuid[]) OR {} = ANY(%(keys)s::text[])"
    ).format(
        pgsql.SQL(", ").join(pgsql.Identifier(c.name) for c in model.__table__.columns),
        pgsql.Identifier(model.__tablename__),
        pgsql.Identifier(_NATURAL_KEY[model]),
    )
    return statement


def lookup(model: type[M], ids: Sequence[uuid.UUID], keys: Sequence[str]) -> tuple[pgsql.Composed, dict]:
    """The statement (and parameters) reading the records of ``model`` with these ids or natural
    keys, every column; rows as dicts go to ``records``. Plain SQL, not an ORM query: the ORM's
    statement building and row loading cost a posting more than the lookup itself."""
    return _lookup_sql(model), {"ids": list(ids), "keys": list(keys)}


def records(session: Session, model: type[M], rows: Iterable[dict]) -> list[M]:
    """The session's own objects for rows ``lookup`` read: the identity map's object where the
    session has one (as an ORM query returns it), else a new one, persistent as if loaded.
    The caller flushed first (an ORM query's autoflush), so pending changes are in the rows; as an
    ORM query does, the row fills an object's expired attributes (a rollback expires them) and
    leaves its loaded ones alone. Call it outside a pipeline: nothing here queries, but the
    objects are the session's, and touching one the caller expired would."""
    identity_map = session.identity_map
    out: list[M] = []
    new: list[M] = []
    for values in rows:
        obj = identity_map.get(identity_key(model, values["id"]))
        if obj is None:
            obj = model(**values)
            make_transient_to_detached(obj)
            new.append(obj)
        else:
            for key in instance_state(obj).expired_attributes & values.keys():
                set_committed_value(obj, key, values[key])
        out.append(obj)
    session.add_all(new)
    return out


_MEMO = "lotline.catalog_memo"


def remember_records(session: Session) -> None:
    """Resolve each reference once for the rest of this session (a batch of postings): master data
    does not change under a batch, and the records stay the session's own objects. Any rollback
    (a refused document's savepoint too, which may have created records) empties what was kept."""
    session.info.setdefault(_MEMO, {})


def remembers_records(session: Session) -> bool:
    """True inside ``remember_records`` (references resolved before are answered without a query)."""
    return _MEMO in session.info


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_records(session: Session, _previous: object) -> None:
    memo = session.info.get(_MEMO)
    if memo:
        memo.clear()


def create_item(session: Session, data: ItemIn) -> Item:
    item = Item(**data.model_dump())
    session.add(item)
    session.flush()
    return item


def create_location(session: Session, data: LocationIn) -> Location:
    location = Location(**data.model_dump())
    session.add(location)
    session.flush()
    return location


def create_vendor(session: Session, data: PartyIn) -> Vendor:
    vendor = Vendor(**data.model_dump())
    session.add(vendor)
    session.flush()
    return vendor


def create_customer(session: Session, data: PartyIn) -> Customer:
    customer = Customer(**data.model_dump())
    session.add(customer)
    session.flush()
    return customer


def list_all(session: Session, model: type[M]) -> Sequence[M]:
    return session.scalars(sa.select(model).order_by(getattr(model, _NATURAL_KEY[model]))).all()


def list_page(session: Session, model: type[M], *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of records by natural key (rows of one record each)."""
    key = getattr(model, _NATURAL_KEY[model])
    return pages.page(session, sa.select(model), [key], lambda r: (getattr(r[0], _NATURAL_KEY[model]),),
                      after=after, limit=limit)
