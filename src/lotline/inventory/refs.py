"""Resolving a document's references to master data — items, locations, its vendor or customer —
in one query, where ``catalog.resolve_many`` would send one per kind.

The records are the session's own ORM objects (the identity map's), matched exactly as
``catalog.resolve_many`` matches them (by UUID or natural key); a reference that resolves to
nothing is refused by ``catalog.resolve_many`` itself, with its NotFound and message. Inside a
batch (``catalog.remember_records``) the catalog's memo answers without a query, so it is used.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from lotline.catalog import service as catalog
from lotline.models import Customer, Item, Location, Vendor

_KEY: dict[Any, str] = {Item: "sku", Location: "code", Vendor: "code", Customer: "code"}
Ref = str | uuid.UUID


def resolve_all(
    session: Session, wanted: dict[Any, Sequence[Ref]], *, context: str = ""
) -> dict[Any, dict[Ref, Any]]:
    """``{model: {ref: record}}`` for every model's references, in one query (see module doc)."""
    wanted = {m: list(dict.fromkeys(refs)) for m, refs in wanted.items() if refs}
    if len(wanted) < 2 or catalog.remembers_records(session):
        return {m: catalog.resolve_many(session, m, refs, context=context) for m, refs in wanted.items()}
    # One subquery per kind, side by side (FULL JOIN ON false: each row carries one record); each
    # subquery is its own index lookup.
    subqueries: list[tuple[Any, Any]] = []
    for model, refs in wanted.items():
        ids = [i for i in (catalog.as_uuid(r) for r in refs) if i is not None]
        key = getattr(model, _KEY[model])
        subqueries.append(
            (model, sa.select(model).where(sa.or_(model.id.in_(ids), key.in_([str(r) for r in refs]))).subquery())
        )
    entities: list[Any] = [aliased(model, sub) for model, sub in subqueries]
    joined: Any = subqueries[0][1]
    for _, sub in subqueries[1:]:
        joined = joined.join(sub, sa.false(), full=True)
    found: dict[Any, list[Any]] = {m: [] for m in wanted}
    for row in session.execute(sa.select(*entities).select_from(joined)):
        for (model, _), record in zip(subqueries, row, strict=True):
            if record is not None:
                found[model].append(record)
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
