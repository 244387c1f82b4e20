"""Response models of the EPCIS routes (``api/routers/epcis.py``).

Capture jobs are ours and typed field by field (the ``epcis_capture_jobs`` and
``epcis_capture_results`` rows). EPCIS documents are GS1's: they are modelled as their envelope
(``@context``, ``type``, ``schemaVersion``, ``creationDate``, header, body) with the events of
``eventList`` left as open objects — their shape is the EPCIS 2.0 JSON schema's, not ours.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from lotline.api.schemas import Out
from lotline.vocab import CaptureJobStatus, CaptureOutcome


class EventResult(Out):
    """What became of one event of a captured document (``seq``: its 0-based index)."""

    seq: int
    event_key: str | None
    event_type: str | None
    outcome: CaptureOutcome
    mapping: str | None
    code: str | None
    message: str | None


class CaptureJobCounts(Out):
    id: uuid.UUID
    status: CaptureJobStatus
    atomic: bool
    events_total: int
    posted: int
    replayed: int
    stored: int
    skipped: int
    refused: int
    error: str | None


class CaptureAnswer(CaptureJobCounts):
    """The finished job of a capture, with its refused events (at most 1000)."""

    refusals: list[EventResult]


class CaptureJob(CaptureJobCounts):
    """A capture job as stored: its source, counters and per-event results in document order."""

    create_master_data: bool
    source: str | None
    document_sha256: str | None
    created_at: datetime
    finished_at: datetime | None
    results: list[EventResult]


class _EpcisDocument(Out):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    context: list[Any] = Field(alias="@context")
    type: str
    schemaVersion: str  # noqa: N815 - EPCIS field names
    creationDate: str  # noqa: N815 - kept as written (document hashes read it)


class ResultsBody(Out):
    eventList: list[dict[str, Any]]  # noqa: N815


class QueryResults(Out):
    queryName: str  # noqa: N815
    resultsBody: ResultsBody  # noqa: N815


class QueryBody(Out):
    queryResults: QueryResults  # noqa: N815


class EpcisQueryDocument(_EpcisDocument):
    """An EPCISQueryDocument answering a SimpleEventQuery."""

    epcisBody: QueryBody  # noqa: N815


class EventListBody(Out):
    eventList: list[dict[str, Any]]  # noqa: N815


class EpcisDocument(_EpcisDocument):
    """An EPCISDocument: master data (items, locations, parties) in the header, events in the body."""

    epcisHeader: dict[str, Any]  # noqa: N815
    epcisBody: EventListBody  # noqa: N815
