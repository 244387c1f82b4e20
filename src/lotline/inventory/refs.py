"""Resolving a document's references to master data — items, locations, its vendor or customer —
in one round trip (one lookup per kind, pipelined), where ``catalog.resolve_many`` would wait
for each kind in turn.

The records are the session's own ORM objects (the identity map's), matched exactly as
``catalog.resolve_many`` matches them (by UUID or natural key); a reference that resolves to
nothing is refused by ``catalog.resolve_many`` itself, with its NotFound and message. Inside a
batch (``catalog.remember_records``) the catalog's memo answers without a query, so it is used.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.db import sql
from lotline.models import Customer, Item, Location, Vendor

_KEY: dict[Any, str] = {Item: "sku", Location: "code", Vendor: "code", Customer: "code"}
Ref = str | uuid.UUID


def resolve_all(
    session: Session, wanted: dict[Any, Sequence[Ref]], *, context: str = ""
) -> dict[Any, dict[Ref, Any]]:
    """``{model: {ref: record}}`` for every model's references, in one round trip (see module doc)."""
    wanted = {m: list(dict.fromkeys(refs)) for m, refs in wanted.items() if refs}
    if len(wanted) < 2 or catalog.remembers_records(session):
        return {m: catalog.resolve_many(session, m, refs, context=context) for m, refs in wanted.items()}
    # One lookup per kind (each its own index lookup), all in one pipeline.
    session.flush()  # (as the ORM's autoflush would: records made in this transaction are found)
    with sql.pipelined_many(session, lookups(wanted), kind="dict") as fetches:
        rows = [fetch() for fetch in fetches]
    found = {m: catalog.records(session, m, r) for m, r in zip(wanted, rows, strict=True)}
    return matched(session, wanted, found, context=context)


def lookups(wanted: Mapping[Any, Sequence[Ref]]) -> list[tuple[Any, dict]]:
    """The statements reading each model's referenced records (``catalog.lookup``), in ``wanted``'s
    order: for a caller that sends them in a pipeline of its own (flushed first) and gives the
    records to ``matched``."""
    out = []
    for model, refs in wanted.items():
        ids = [i for i in (catalog.as_uuid(r) for r in refs) if i is not None]
        out.append(catalog.lookup(model, ids, [str(r) for r in refs]))
    return out


def matched(
    session: Session, wanted: Mapping[Any, Sequence[Ref]], found: Mapping[Any, Sequence[Any]], *, context: str = ""
) -> dict[Any, dict[Ref, Any]]:
    """``{model: {ref: record}}`` from the records read; an unknown reference is refused by the catalog."""
    out: dict[Any, dict[Ref, Any]] = {}
    for model, refs in wanted.items():
        out[model] = _match(model, refs, found[model])
        if len(out[model]) < len(refs):  # some reference is unknown: the catalog refuses it
            out[model] = catalog.resolve_many(session, model, refs, context=context)
    return out


def _match(model: Any, refs: Sequence[Ref], records: Sequence[Any]) -> dict[Ref, Any]:
    """References to records as ``catalog.resolve_many`` matches them (id first, then natural key)."""
    by_id = {r.id: r for r in records}
    by_key = {getattr(r, _KEY[model]): r for r in records}
    out = {}
    for ref in refs:
        rid = catalog.as_uuid(ref)
        record = by_id.get(rid) if rid is not None else None
        record = record or by_key.get(str(ref))
        if record is not None:
            out[ref] = record
    return out
