"""EPCIS capture jobs: a document in, postings out, and a job record with per-event results.

A capture is a *flow* (it opens its own transactions):

1. the job row is written (status ``running``) in its own transaction, so it can be read back meanwhile;
2. the document is validated in full — header and every event (``validate``), streamed, nothing posted.
   Any problem refuses the whole document (job ``failed``, every problem listed by event index and
   eventID) — a document that breaks the schema is not half-imported;
3. the events are applied in document order (``mapping``), in transactions of ``CHUNK`` events. A
   chunk goes first to the set-based chunk poster (``bulk``): when it finds — conservatively, one read
   per rule for the whole chunk — that every event would post through the services unrefused, it writes
   the chunk's rows in a few statements per table, exactly what the services would write (tested event
   for event, audit entries included); otherwise it writes nothing and the chunk goes the batched
   posting path: the chunk's stocked rows locked up front in the global order, records and
   lots resolved once, every event through the posting services. A chunk is first tried whole, in
   one savepoint; if an event of it is refused, the chunk is rolled back and tried again with a
   savepoint per event (the fallback), so that only that event is refused. An event whose key (eventID, else content hash) was captured before — in an
   earlier job or earlier in this document — is ``replayed``: nothing is written. A refused event rolls back
   to its savepoint only and is reported with the service's error (its code and message, prefixed with
   ``event N (eventID)``). With ``atomic=True`` the whole document is one transaction: every event is
   still tried (so the report lists every refusal), then, if any was refused, everything is rolled back
   and the job is ``failed`` — all or nothing;
4. the job's counters and status (``succeeded``, ``partial`` when some events were refused, ``failed``)
   are written with the last chunk.

Each non-refused event is kept in ``epcis_events`` (body, type, time, bizStep, disposition, lot ids and
EPC classes for queries, and the effects an error declaration would undo); each result in
``epcis_capture_results``. Memory stays flat: events are streamed and at most one chunk is held.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline import db
from lotline.audit import service as audit
from lotline.catalog import service as catalog
from lotline.db import errors as db_errors
from lotline.db import sql
from lotline.epcis import bulk as bulk_poster
from lotline.epcis import document, validate
from lotline.epcis.identifiers import parse_class
from lotline.epcis.mapping import EXT, Mapper, Outcome, cbv, parse_time
from lotline.epcis.masterdata import Registry, vocabulary_index
from lotline.errors import InvalidInput, LotlineError, NotFound
from lotline.inventory import service as inventory

CHUNK = 500
MAX_PROBLEMS = 1000

Progress = Callable[[int, int], None]


@dataclass
class Result:
    seq: int
    event_key: str | None
    event_type: str | None
    outcome: str
    mapping: str | None = None
    code: str | None = None
    message: str | None = None


@dataclass
class Job:
    id: uuid.UUID
    status: str
    atomic: bool
    events_total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("posted", "replayed", "stored", "skipped", "refused"), 0))
    error: str | None = None
    refusals: list[Result] = field(default_factory=list)


def source_of_bytes(data: bytes) -> document.Source:
    return lambda: io.BytesIO(data)


def source_of_path(path: str | Path) -> document.Source:
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"no such file {str(p)!r}", kind="file", ref=str(p))
    return lambda: open(p, "rb")


def _sha256(source: document.Source) -> str:
    h = hashlib.sha256()
    with source() as stream:
        while chunk := stream.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _label(seq: int, key: str | None) -> str:
    return f"event {seq}" + (f" ({key})" if key else "")


def _named(label: str, message: str) -> str:
    return message if message.startswith(label) else f"{label}: {message}"


def _start(atomic: bool, create: bool, name: str | None, digest: str) -> uuid.UUID:
    job_id = uuid.uuid4()
    with db.transaction() as s:
        s.execute(
            sa.text(
                "INSERT INTO epcis_capture_jobs (id, status, atomic, create_master_data, source, document_sha256)"
                " VALUES (:id, 'running', :a, :c, :n, :d)"
            ),
            {"id": job_id, "a": atomic, "c": create, "n": name, "d": digest},
        )
    return job_id


def _insert_results(s: Session, job_id: uuid.UUID, results: list[Result]) -> None:
    if results:
        s.execute(
            sa.text(
                "INSERT INTO epcis_capture_results (job_id, seq, event_key, event_type, outcome, mapping, code, message)"
                " SELECT :job, * FROM unnest(CAST(:seq AS int[]), CAST(:key AS text[]), CAST(:type AS text[]),"
                " CAST(:outcome AS text[]), CAST(:mapping AS text[]), CAST(:code AS text[]), CAST(:message AS text[]))"
            ),
            # each array bound as one literal (sql.array_literal): no element-by-element dumping
            sql.with_array_literals({
                "job": job_id,
                "seq": [r.seq for r in results],
                "key": [r.event_key for r in results],
                "type": [r.event_type for r in results],
                "outcome": [r.outcome for r in results],
                "mapping": [r.mapping for r in results],
                "code": [r.code for r in results],
                "message": [(r.message or "")[:10_000] or None for r in results],
            }),
        )


def _insert_events(s: Session, job_id: uuid.UUID, rows: list[tuple]) -> None:
    if rows:
        s.execute(
            sa.text(
                "INSERT INTO epcis_events (id, event_key, event_type, event_time, action, biz_step, disposition, outcome,"
                " mapping, epc_classes, lot_ids, effects, capture_job_id, body)"
                " SELECT r.id, r.key, r.type, r.t, r.action, r.step, r.disp, r.outcome, r.mapping,"
                "        CAST(r.classes AS text[]), CAST(r.lots AS uuid[]), CAST(r.effects AS jsonb), :job, CAST(r.body AS jsonb)"
                "   FROM unnest(CAST(:id AS uuid[]), CAST(:key AS text[]), CAST(:type AS text[]), CAST(:t AS timestamptz[]),"
                "               CAST(:action AS text[]), CAST(:step AS text[]), CAST(:disp AS text[]), CAST(:outcome AS text[]),"
                "               CAST(:mapping AS text[]), CAST(:classes AS text[]), CAST(:lots AS text[]), CAST(:effects AS text[]),"
                "               CAST(:body AS text[]))"
                "     AS r(id, key, type, t, action, step, disp, outcome, mapping, classes, lots, effects, body)"
            ),
            # each array bound as one literal (sql.array_literal): the bodies' quotes are escaped in C
            # (str.replace), not by psycopg's per-element dumping
            sql.with_array_literals({
                "job": job_id,
                **{name: [r[i] for r in rows] for i, name in enumerate(
                    ("id", "key", "type", "t", "action", "step", "disp", "outcome", "mapping", "classes", "lots", "effects", "body")
                )},
            }),
        )


def class_keys(event: dict) -> list[str]:
    """Normalised item/lot keys of every class the event names (for MATCH_anyEPCClass and lot queries)."""
    keys = []
    for member in ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList"):
        for q in event.get(member) or []:
            try:
                ref = parse_class(q.get("epcClass"))
            except InvalidInput:
                keys.append("raw:" + str(q.get("epcClass")))
                continue
            keys.append(class_key(ref))
    return sorted(set(keys))


def class_key(ref) -> str:
    base = f"gtin:{ref.gtin}" if ref.gtin else f"sku:{ref.sku}"
    return base + (f"|lot:{ref.lot}" if ref.lot is not None else "")


def _event_row(event: dict, key: str, out: Outcome) -> tuple:
    return (
        bulk_poster.new_id(), key, event["type"], parse_time(event["eventTime"]), event.get("action"),
        cbv(event.get("bizStep")), cbv(event.get("disposition")), out.outcome, out.mapping,
        "{" + ",".join(json.dumps(k) for k in class_keys(event)) + "}",
        "{" + ",".join(str(x) for x in dict.fromkeys(out.lot_ids)) + "}",
        json.dumps(out.effects), document.dumps_event(event),
    )


def validate_document(source: document.Source, header: document.Header | None = None) -> list[str]:
    """Every schema problem of the document, event problems prefixed with ``event N (eventID)``."""
    header = header or document.read_header(source)
    problems = [f"document: {p}" for p in validate.document_problems(header.members)]
    if "epcisBody" in header.members and not isinstance(header.members.get("epcisBody"), dict):
        problems.append("document: epcisBody must be an object")
    elif not header.has_event_list and not problems:
        problems.append("document: epcisBody.eventList is required")
    if problems and header.members.get("type") != "EPCISDocument":
        return problems
    for seq, event in enumerate(document.iter_events(source)):
        for p in validate.event_problems(event):
            if len(problems) >= MAX_PROBLEMS:
                problems.append(f"... more than {MAX_PROBLEMS} problems; stopped listing")
                return problems
            key = event.get("eventID") if isinstance(event, dict) else None
            problems.append(f"{_label(seq, key if isinstance(key, str) else None)}: {p}")
    return problems


def capture(
    source: document.Source,
    *,
    atomic: bool = False,
    create_master_data: bool = False,
    name: str | None = None,
    progress: Progress | None = None,
    bulk: bool = True,
) -> Job:
    """Validate then apply one EPCIS document (see module doc); returns the finished job.

    ``bulk=False``: every chunk goes the per-event way (the reference the bulk path is tested against).
    """
    digest = _sha256(source)
    header = document.read_header(source)
    job = Job(_start(atomic, create_master_data, name, digest), "running", atomic, header.events)
    problems = validate_document(source, header)
    if problems:
        job.status, job.error = "failed", "the document breaks the EPCIS 2.0 schema; nothing was posted:\n" + "\n".join(problems)
        _finish(job, [])
        return job

    registry = Registry(None, create=create_master_data, vocabulary=vocabulary_index(header.members))
    mapper = Mapper(registry)
    seen: set[str] = set()
    events = document.iter_events(source)
    if atomic:
        try:
            with db.transaction() as s:
                registry.session = s
                done = _run(s, job, events, mapper, seen, progress, chunked=False)
                if job.counts["refused"]:
                    raise _Abort()
                _finish(job, done, session=s)
        except _Abort:
            job.status = "failed"
            job.error = f"{job.counts['refused']} event(s) refused; --atomic: nothing was posted"
            for k in ("posted", "replayed", "stored", "skipped"):
                job.counts[k] = 0
            _finish(job, job.refusals)
        return job
    try:
        _run(None, job, events, mapper, seen, progress, chunked=True, bulk=bulk)
    except BaseException as exc:
        # chunks already committed stay (their results are recorded); the job says where it stopped
        job.status = "failed"
        job.error = f"stopped by {type(exc).__name__}: {exc}"[:10_000]
        _finish(job, [], results_written=True)
        raise
    return job


class _Abort(Exception):
    pass


def _run(session, job, events, mapper, seen, progress, *, chunked: bool, bulk: bool = False) -> list[Result]:
    """Apply events in chunks; per chunk: one replay query, a savepoint per event, bulk inserts."""
    all_results: list[Result] = []
    seq = 0
    total = job.events_total
    ahead = _Ahead(events, mapper)
    while True:
        chunk, planned = ahead.take()
        if not chunk:
            break
        last = len(chunk) < CHUNK
        if chunked:
            with db.transaction() as s:
                mapper.registry.session = s
                read_next = None if last else functools.partial(ahead.read, seq + len(chunk))
                results = (_apply_chunk_in_bulk(s, job, chunk, seq, mapper, seen, planned=planned, meanwhile=read_next)
                           if bulk else None)
                if results is None:
                    ahead.drop_plan()  # made beside writes given up: records it used may be forgotten
                    results = _apply_chunk_at_once(s, job, chunk, seq, mapper, seen)
                _insert_results(s, job.id, results)
                if last:
                    _finish(job, [], session=s, results_written=True)
        else:
            results = _apply_chunk(session, job, chunk, seq, mapper, seen)
            all_results.extend(r for r in results)
        seq += len(chunk)
        if progress:
            progress(seq, total)
        if last:
            break
    if chunked and seq % CHUNK == 0:
        with db.transaction() as s:
            _finish(job, [], session=s, results_written=True)
    return all_results


class _Ahead:
    """The document's chunks, in order; the next one may be read, and planned for the bulk path
    (``bulk.plan_ahead``), while the server runs the current chunk's writes: two cores instead of
    one taking turns.

    A chunk read ahead is the same chunk as read in turn; an error reading it is raised where it
    would have been (at ``take``). Its plan is used only if the chunk before it was written by the
    bulk path (``_apply_chunk_in_bulk`` drops it otherwise) and was made before any replay check:
    ``_apply_chunk_in_bulk`` checks the chunk as ever, then ``post_chunk`` uses the plan.
    """

    def __init__(self, events, mapper: Mapper):
        self.events, self.mapper = events, mapper
        self.chunk: list[dict] | None = None
        self.planned: list | None = None
        self.error: BaseException | None = None

    def _next_chunk(self) -> list[dict]:
        chunk: list[dict] = []
        for event in self.events:
            chunk.append(event)
            if len(chunk) >= CHUNK:
                break
        return chunk

    def take(self) -> tuple[list[dict], list | None]:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        chunk, planned = self.chunk, self.planned
        self.chunk = self.planned = None
        return (chunk, planned) if chunk is not None else (self._next_chunk(), None)

    def read(self, first: int) -> None:
        """Read the next chunk (and plan it) now; ``first`` is its first event's number."""
        try:
            self.chunk = self._next_chunk()
        except Exception as exc:  # raised at take(), where reading in turn would have raised it
            self.error = exc
            return
        try:
            keys = [document.event_key(event) for event in self.chunk]
            if self.chunk and len(set(keys)) == len(keys):
                labels = [_label(first + n, event.get("eventID")) for n, event in enumerate(self.chunk)]
                self.planned = bulk_poster.plan_ahead(self.chunk, keys, first, self.mapper, labels)
        except Exception:  # a plan is optional: planned in turn, the chunk meets the same error where it always did
            self.planned = None

    def drop_plan(self) -> None:
        self.planned = None


def _taking_pairs(registry: Registry, chunk: list[dict]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(item, location) pairs the chunk's shipping, destroying and transformation events take from.

    Only identifiers the job resolved before count (nothing is looked up or created here): the
    events' own postings lock what this misses, as one posting at a time does.
    """
    pairs = []
    for event in chunk:
        point = event.get("bizLocation") or event.get("readPoint") or {}
        place = registry.known_location(point["id"]) if isinstance(point.get("id"), str) else None
        if event.get("type") == "TransformationEvent":
            own = event.get(EXT + "inputLocations") or []
            for n, q in enumerate(event.get("inputQuantityList") or []):
                loc = registry.known_location(own[n]) if n < len(own) and isinstance(own[n], str) else place
                item = registry.known_item(q.get("epcClass", ""))
                if item and loc:
                    pairs.append((item.id, loc.id))
        elif cbv(event.get("bizStep")) in ("shipping", "destroying") and place:
            for q in event.get("quantityList") or []:
                if item := registry.known_item(q.get("epcClass", "")):
                    pairs.append((item.id, place.id))
    return pairs


def _clear_reason(s: Session, out: Outcome) -> None:
    """An event that changed lot statuses or undid another set the audit reason: not the next event's."""
    if out.effects.get("status") or out.mapping == "declaration":
        audit.set_reason(s, None)


class _Redo(Exception):
    """An event of a chunk tried at once was refused: the chunk is tried again event by event."""


def _apply_chunk_in_bulk(
    s: Session, job: Job, chunk: list[dict], first: int, mapper: Mapper, seen: set[str], *,
    planned: list | None = None, meanwhile: Callable[[], object] | None = None,
) -> list[Result] | None:
    """A chunk through the set-based poster (``bulk``), or None having written nothing (then: per event).

    Only a chunk without a replayed event (captured before, or twice in the chunk) goes this way.
    ``planned``: its plan made ahead (``_Ahead``); ``meanwhile``: run while its writes run.
    """
    keys = [document.event_key(event) for event in chunk]
    if len(set(keys)) != len(keys) or seen.intersection(keys) or any("errorDeclaration" in e for e in chunk):
        return None
    if s.execute(sa.text("SELECT 1 FROM epcis_events WHERE event_key = ANY(:k) LIMIT 1"), {"k": keys}).first():
        return None
    labels = [_label(first + n, event.get("eventID")) for n, event in enumerate(chunk)]
    done = bulk_poster.post_chunk(s, chunk, keys, first, mapper, labels, planned=planned, meanwhile=meanwhile)
    if done is None:
        return None
    results, rows = [], []
    for (ev, out), event, key in zip(done, chunk, keys, strict=True):
        seen.add(key)
        rows.append(_event_row(event, key, out))
        results.append(Result(ev.seq, key, event["type"], out.outcome, out.mapping, message=out.message or None))
        job.counts[out.outcome] += 1
    _insert_events(s, job.id, rows)
    return results


def _apply_chunk_at_once(
    s: Session, job: Job, chunk: list[dict], first: int, mapper: Mapper, seen: set[str]
) -> list[Result]:
    """A chunk as one batch: every event posted without a savepoint of its own, in one for the chunk.

    The common case, a chunk without a refused event, saves a savepoint per event. When an event is
    refused, the chunk is rolled back to its savepoint and tried again with a savepoint per event
    (``_apply_chunk``), which refuses that event alone and reports it as before: the fallback.
    """
    counts, refusals, mark = dict(job.counts), len(job.refusals), mapper.registry.mark()
    added: list[str] = []
    whole = s.begin_nested()
    try:
        results = _apply_chunk(s, job, chunk, first, mapper, seen, savepoints=False, added=added)
    except _Redo:
        whole.rollback()
        job.counts = counts
        del job.refusals[refusals:]
        seen.difference_update(added)
        mapper.registry.forget_since(mark)
        return _apply_chunk(s, job, chunk, first, mapper, seen)
    whole.commit()
    return results


def _apply_chunk(  # noqa: C901 — one pass over the chunk: replays, refusals (in a savepoint or not), rows
    s: Session,
    job: Job,
    chunk: list[dict],
    first: int,
    mapper: Mapper,
    seen: set[str],
    *,
    savepoints: bool = True,
    added: list[str] | None = None,
) -> list[Result]:
    """One chunk in the session's transaction: the batched posting path (``inventory.batch``'s way).

    Records are resolved once (``remember_records``), the stocked rows the chunk takes from are
    locked up front in one statement in the global order, and every event is then posted through
    the services — in its own savepoint, so that a refused event is rolled back alone, or, with
    ``savepoints=False``, without one: a refusal then raises ``_Redo`` (``_apply_chunk_at_once``).
    """
    catalog.remember_records(s)
    if pairs := _taking_pairs(mapper.registry, chunk):
        inventory.lock_stock(s, pairs)
    keys = []
    for event in chunk:
        key = document.event_key(event)
        keys.append(key + "#declaration" if "errorDeclaration" in event else key)
    known = set(s.execute(sa.text("SELECT event_key FROM epcis_events WHERE event_key = ANY(:k)"), {"k": keys}).scalars())
    results: list[Result] = []
    rows: list[tuple] = []
    for n, (event, key) in enumerate(zip(chunk, keys, strict=True)):
        seq = first + n
        plain_key = key.removesuffix("#declaration")
        label = _label(seq, event.get("eventID"))
        if key in known or key in seen:
            results.append(Result(seq, key, event["type"], "replayed", message="captured before; nothing posted"))
            job.counts["replayed"] += 1
            continue
        if "errorDeclaration" in event and rows:
            _insert_events(s, job.id, rows)  # the declared event may be earlier in this chunk
            rows.clear()
        if not savepoints:
            try:
                out = mapper.apply(event, plain_key, label)
                s.flush()
            except (LotlineError, sa.exc.DBAPIError) as exc:
                raise _Redo() from exc
            _clear_reason(s, out)
            seen.add(key)
            if added is not None:
                added.append(key)
            rows.append(_event_row(event, key, out))
            results.append(Result(seq, key, event["type"], out.outcome, out.mapping, message=out.message or None))
            job.counts[out.outcome] += 1
            continue
        mark = mapper.registry.mark()
        savepoint = s.begin_nested()
        try:
            out = mapper.apply(event, plain_key, label)
            s.flush()
            _clear_reason(s, out)
            savepoint.commit()
        except LotlineError as exc:
            savepoint.rollback()
            mapper.registry.forget_since(mark)
            r = Result(seq, key, event["type"], "refused", code=exc.code, message=_named(label, exc.message))
            results.append(r)
            job.refusals.append(r)
            job.counts["refused"] += 1
            continue
        except Exception as exc:  # a database error inside the savepoint: refuse this event, keep going
            if not isinstance(exc, sa.exc.DBAPIError) or (translated := db_errors.translate(exc)) is None:
                raise
            savepoint.rollback()
            mapper.registry.forget_since(mark)
            r = Result(seq, key, event["type"], "refused", code=translated.code, message=_named(label, translated.message))
            results.append(r)
            job.refusals.append(r)
            job.counts["refused"] += 1
            continue
        seen.add(key)
        rows.append(_event_row(event, key, out))
        results.append(Result(seq, key, event["type"], out.outcome, out.mapping, message=out.message or None))
        job.counts[out.outcome] += 1
    _insert_events(s, job.id, rows)
    return results


def _finish(job: Job, results: list[Result], *, session: Session | None = None, results_written: bool = False) -> None:
    if job.status == "running":
        job.status = "partial" if job.counts["refused"] else "succeeded"

    def write(s: Session) -> None:
        if not results_written:
            _insert_results(s, job.id, results)
        s.execute(
            sa.text(
                "UPDATE epcis_capture_jobs SET status = :st, events_total = :total, posted = :p, replayed = :r, stored = :s,"
                " skipped = :k, refused = :f, error = :e, finished_at = now() WHERE id = :id"
            ),
            {"st": job.status, "total": job.events_total, "p": job.counts["posted"], "r": job.counts["replayed"],
             "s": job.counts["stored"], "k": job.counts["skipped"], "f": job.counts["refused"], "e": job.error, "id": job.id},
        )

    if session is not None:
        write(session)
    else:
        with db.transaction() as s:
            write(s)


# --- reading jobs back ----------------------------------------------------------------------------


def get_job(session: Session, job_id: uuid.UUID, *, results: bool = True, limit: int = 10_000) -> dict[str, Any]:
    """A capture job with its counters and (up to ``limit``) per-event results; NotFound if unknown."""
    row = session.execute(sa.text("SELECT * FROM epcis_capture_jobs WHERE id = :id"), {"id": job_id}).mappings().first()
    if row is None:
        raise NotFound(f"unknown capture job {job_id}", kind="capture_job", ref=str(job_id))
    out = dict(row)
    if results:
        out["results"] = [
            dict(r) for r in session.execute(
                sa.text("SELECT seq, event_key, event_type, outcome, mapping, code, message FROM epcis_capture_results"
                        " WHERE job_id = :id ORDER BY seq LIMIT :n"),
                {"id": job_id, "n": limit},
            ).mappings()
        ]
    return out
