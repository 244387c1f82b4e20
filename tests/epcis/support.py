"""Building EPCIS test documents and reading what a capture did."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from lotline.epcis import capture
from lotline.epcis.export import CONTEXT

GTIN_FLOUR = "04012345111118"  # urn:epc:class:lgtin:4012345.011111.*
GTIN_BREAD = "04012345222227"


def t(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def doc(*events: dict, header: dict | None = None) -> dict:
    d = {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z",
         "epcisBody": {"eventList": list(events)}}
    if header:
        d["epcisHeader"] = header
    return d


def event(etype: str, when: datetime, **members) -> dict:
    return {"type": etype, "eventTime": t(when), "eventTimeZoneOffset": "+00:00", **members}


def lgtin(gtin: str, lot: str, cp: int = 7) -> str:
    return f"urn:epc:class:lgtin:{gtin[1:1 + cp]}.{gtin[0]}{gtin[1 + cp:13]}.{lot}"


def qty(epc_class: str, q, uom: str | None = "KGM") -> dict:
    out = {"epcClass": epc_class, "quantity": float(q) if isinstance(q, Decimal) else q}
    if uom:
        out["uom"] = uom
    return out


def run(d: dict, **kw) -> capture.Job:
    return capture.capture(capture.source_of_bytes(json.dumps(d).encode()), **kw)
