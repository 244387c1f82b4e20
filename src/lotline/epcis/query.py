"""EPCIS queries over captured events: the SimpleEventQuery parameters that matter to lotline.

``events(session, ...)`` reads ``epcis_events`` (every captured event that was not refused, as received)
with: ``eventType`` (one or several), ``GE_eventTime`` / ``LT_eventTime`` (half-open window),
``MATCH_anyEPCClass`` (any identifier form of an item or lot class — URN, Digital Link, lotline URN — matched
on its normalised GTIN/SKU + lot), ``lot`` (a lotline lot code, optionally with ``item``), ``EQ_bizStep`` and
``EQ_disposition`` (bare CBV words or CBV URIs). Results are in event-time order, at most ``limit``, and
come back as an EPCIS 2.0 query document. One statement; no query per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.epcis.capture import class_key
from lotline.epcis.export import CONTEXT, _t
from lotline.epcis.identifiers import parse_class
from lotline.epcis.mapping import cbv
from lotline.epcis.validate import STANDARD_EVENT_TYPES
from lotline.errors import InvalidInput
from lotline.lots import service as lots_service
from lotline.types import utcnow

MAX_LIMIT = 10_000


def events(
    session: Session,
    *,
    event_types: Sequence[str] = (),
    ge_event_time: datetime | None = None,
    lt_event_time: datetime | None = None,
    any_epc_class: Sequence[str] = (),
    lot: str | None = None,
    item: str | None = None,
    biz_step: Sequence[str] = (),
    disposition: Sequence[str] = (),
    limit: int = 1000,
) -> dict:
    """Captured events matching every given parameter, as an EPCISQueryDocument."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1..{MAX_LIMIT}, got {limit}")
    for t in event_types:
        if t not in STANDARD_EVENT_TYPES and ":" not in t:
            raise InvalidInput(f"eventType {t!r} is not one of {', '.join(STANDARD_EVENT_TYPES)} nor an extension URI")
    where, params = ["TRUE"], {"limit": limit}
    if event_types:
        where.append("event_type = ANY(:types)")
        params["types"] = list(event_types)
    if ge_event_time:
        where.append("event_time >= :ge")
        params["ge"] = ge_event_time
    if lt_event_time:
        where.append("event_time < :lt")
        params["lt"] = lt_event_time
    if any_epc_class:
        keys = []
        for raw in any_epc_class:
            ref = parse_class(raw)
            keys.append(class_key(ref))
        # an item-level class matches the item's lots too
        where.append(
            "(epc_classes && CAST(:classes AS text[]) OR EXISTS (SELECT 1 FROM unnest(epc_classes) c"
            " WHERE split_part(c, '|', 1) = ANY(CAST(:items AS text[]))))"
        )
        params["classes"] = keys
        params["items"] = [k for k in keys if "|lot:" not in k]
    if lot is not None:
        found = lots_service.find_lot(session, lot, item_ref=item)
        where.append("lot_ids @> ARRAY[CAST(:lot AS uuid)]")
        params["lot"] = found.id
    if biz_step:
        where.append("biz_step = ANY(:steps)")
        params["steps"] = [cbv(x) for x in biz_step]
    if disposition:
        where.append("disposition = ANY(:disps)")
        params["disps"] = [cbv(x) for x in disposition]
    rows = session.execute(
        sa.text(
            f"SELECT body FROM epcis_events WHERE {' AND '.join(where)} ORDER BY event_time, record_time, id LIMIT :limit"
        ),
        params,
    ).scalars().all()
    return {
        "@context": CONTEXT,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _t(utcnow()),
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": list(rows)}}},
    }
