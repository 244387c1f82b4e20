"""Streaming an EPCIS 2.0 JSON document: its header members and its events, one at a time.

A capture document may hold 100k events; it is never loaded whole. ``read_header`` makes one pass that
keeps every top-level member except ``epcisBody`` (members may come in any order, even after the event
list) and counts the events; ``iter_events`` makes another that yields each event as a plain dict
(``ijson``'s C backend builds them; numbers arrive as int or Decimal, never float). Each pass opens the
source again, so a source is a callable returning a fresh binary stream.

``event_key`` is the event's identity for idempotency: its ``eventID``, or — for an event without one —
lotline's content hash, ``ni:///sha-256;<hex>?ver=lotline1``: SHA-256 of the event's canonical JSON
(sorted keys, no whitespace) without ``eventID``, ``recordTime`` and ``errorDeclaration``. It is stable
for the same content, but it is not GS1's canonical event hash algorithm (which also normalises
identifiers and vocabularies); two senders' hashes of one event will differ.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import ijson

from lotline.errors import InvalidInput

Source = Callable[[], IO[bytes]]
_SCALARS = frozenset(("string", "number", "boolean", "null"))
_VALUE_STARTS = _SCALARS | {"start_map", "start_array"}
MAX_KEY = 200


@dataclass
class Header:
    members: dict[str, Any]
    events: int
    has_event_list: bool


def _json_error(exc: Exception) -> InvalidInput:
    return InvalidInput(f"the document is not valid JSON: {exc}")


def read_header(source: Source) -> Header:
    """Top-level members (without the event list) and the number of events, in one streaming pass."""
    members: dict[str, Any] = {}
    builder: ijson.ObjectBuilder | None = None
    key: str | None = None
    events = 0
    has_list = False
    body_seen = False
    with source() as stream:
        try:
            parser = ijson.parse(stream, use_float=False)
            first = next(parser, None)
            if first is None or first[1] != "start_map":
                raise InvalidInput("an EPCIS document must be a JSON object")
            for prefix, event, value in parser:
                if prefix.startswith("epcisBody"):
                    if prefix == "epcisBody.eventList.item" and event in _VALUE_STARTS:
                        events += 1
                    elif prefix == "epcisBody" and event == "map_key" and value == "eventList":
                        has_list = True
                    elif prefix == "epcisBody.eventList" and event == "start_array":
                        body_seen = True
                    elif prefix == "epcisBody" and event == "start_map":
                        members["epcisBody"] = {}
                    elif prefix == "epcisBody" and event in _SCALARS:
                        members["epcisBody"] = value  # not an object: kept so validation names it
                    continue
                if prefix == "" and event == "map_key":
                    key = value
                    builder = None
                    continue
                if prefix == "" and event == "end_map":
                    break
                if builder is None:
                    builder = ijson.ObjectBuilder()
                builder.event(event, value)
                members[key] = builder.value
        except ijson.JSONError as exc:
            raise _json_error(exc) from exc
    return Header(members, events, has_list and body_seen)


def iter_events(source: Source) -> Iterator[dict]:
    """Each event of the document's eventList, in document order."""
    with source() as stream:
        try:
            yield from ijson.items(stream, "epcisBody.eventList.item", use_float=False)
        except ijson.JSONError as exc:
            raise _json_error(exc) from exc


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "E" not in str(value) else float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def canonical_json(event: dict) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=_plain, ensure_ascii=False)


def content_hash(event: dict) -> str:
    body = {k: v for k, v in event.items() if k not in ("eventID", "recordTime", "errorDeclaration")}
    digest = hashlib.sha256(canonical_json(body).encode()).hexdigest()
    return f"ni:///sha-256;{digest}?ver=lotline1"


def event_key(event: dict) -> str:
    """The event's identity: eventID, else lotline's content hash (see module doc)."""
    eid = event.get("eventID")
    return eid if isinstance(eid, str) and eid else content_hash(event)


def external_ref(key: str, suffix: str = "") -> str:
    """A posting's external reference derived from the event key (≤ 200 characters, stable)."""
    ref = f"epcis:{key}{suffix}"
    if len(ref) <= MAX_KEY:
        return ref
    return f"epcis:sha256:{hashlib.sha256(key.encode()).hexdigest()}{suffix}"


def dumps_event(event: dict) -> str:
    """The event as JSON text for storage."""
    return json.dumps(event, separators=(",", ":"), default=_plain, ensure_ascii=False)
