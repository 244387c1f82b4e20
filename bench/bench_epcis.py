"""EPCIS capture benchmark: a generated document of receiving / transformation / shipping events.

    .venv/bin/python bench/bench_epcis.py [--events 100000] [--server postgresql://postgres@127.0.0.1:5432/postgres]
                                          [--profile-events 3000] [--keep]
    .venv/bin/python bench/bench_epcis.py --events 2000 --code /tmp/lotline_base [--rounds 2]

Writes the document to a temporary file event by event (never held in memory), then imports it with
``lotline.epcis.capture`` into a fresh database of its own (created here, dropped afterwards unless --keep;
it never touches lotline_bench). The mix repeats a 16-event cycle: 1 receiving of a raw lot (LGTIN, ILMD
expiry), 5 transformations (2 raw lots in, 1 finished lot out), 10 shippings of 4 units each to a customer,
each on a new purchase order (so the order is created by the capture).

``--code DIR`` instead captures one generated document with this code and with DIR's ``src``
(e.g. a worktree of the starting commit), alternating, each into a fresh database: events/s,
statements per event, peak resident memory (``ru_maxrss`` of the capturing process) and the ratio,
measured in the same run.

Printed, measured in the same run:
- header + validation passes alone (streamed parse, no database): events/s — the ceiling of the reader;
- the whole capture: events/s, and resident memory at 10 %, 50 % and 100 % of the events (flat = streaming);
- where the time goes: a profiled capture of ``--profile-events`` events into another fresh database,
  split into the posting services (receive, execute, create_order, ship), lotline's own EPCIS code and
  the rest, with statements sent per event.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from lotline.db import engine as engine_mod
from lotline.db import migrations
from lotline.epcis import capture, document, identifiers

RAW = [f"RAW{i:02d}" for i in range(20)]
FIN = [f"FIN{i:02d}" for i in range(10)]
CUSTOMERS = 50
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def gtin(n: int) -> str:
    body = f"0{4012345:07d}{n:05d}"
    return body + identifiers.check_digit(body)


def lot(item_index: int, sku: str, code: str) -> str:
    return identifiers.lot_class(gtin=gtin(item_index), cp_len=7, sku=sku, lot=code)


def write_document(path: Path, n_events: int) -> None:
    items = [(i, s, "kg") for i, s in enumerate(RAW)] + [(100 + i, s, "ea") for i, s in enumerate(FIN)]
    vocab = [{"id": identifiers.lot_class(gtin=gtin(i), cp_len=7, sku=s, lot=None),
              "attributes": [{"id": "urn:lotline:mda:sku", "attribute": s}, {"id": "urn:lotline:mda:name", "attribute": s},
                             {"id": "urn:lotline:mda:uom", "attribute": u}, {"id": "urn:lotline:mda:lotTracked", "attribute": "true"}]}
             for i, s, u in items]
    header = {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
              "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z",
              "epcisHeader": {"epcisMasterData": {"vocabularyList": [{"type": "urn:epcglobal:epcis:vtype:EPCClass",
                                                                      "vocabularyElementList": vocab}]}}}
    head = json.dumps(header)[:-1] + ', "epcisBody": {"eventList": ['
    wh = {"id": "urn:lotline:loc:WH"}
    with open(path, "w", encoding="utf-8") as f:
        f.write(head)
        n, cycle, raw_lots = 0, 0, []
        while n < n_events:
            t = T0 + timedelta(minutes=cycle)
            r = cycle % len(RAW)
            code = f"R{cycle:06d}"
            events = [{"type": "ObjectEvent", "eventTime": t.isoformat(), "eventTimeZoneOffset": "+00:00",
                       "eventID": f"urn:uuid:00000000-0000-4000-8000-{n:012d}", "action": "ADD", "bizStep": "receiving",
                       "bizLocation": wh, "quantityList": [{"epcClass": lot(r, RAW[r], code), "quantity": 1000, "uom": "KGM"}],
                       "sourceList": [{"type": "owning_party", "source": "urn:lotline:vendor:MILL"}],
                       "ilmd": {"cbvmda:itemExpirationDate": "2027-01-01"}}]
            raw_lots = (raw_lots + [(r, code)])[-2:]
            for k in range(5):
                fi = (cycle * 5 + k) % len(FIN)
                events.append({"type": "TransformationEvent", "eventTime": (t + timedelta(seconds=10 + k)).isoformat(),
                               "eventTimeZoneOffset": "+00:00", "bizStep": "commissioning", "bizLocation": wh,
                               "inputQuantityList": [{"epcClass": lot(i, RAW[i], c), "quantity": 10, "uom": "KGM"} for i, c in raw_lots],
                               "outputQuantityList": [{"epcClass": lot(100 + fi, FIN[fi], f"F{cycle:06d}-{k}"), "quantity": 20}],
                               "transformationID": f"urn:uuid:11111111-0000-4000-8000-{cycle * 5 + k:012d}"})
            for k in range(10):
                fi = (cycle * 5 + k // 2) % len(FIN)
                events.append({"type": "ObjectEvent", "eventTime": (t + timedelta(seconds=30 + k)).isoformat(),
                               "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "bizStep": "shipping", "bizLocation": wh,
                               "quantityList": [{"epcClass": lot(100 + fi, FIN[fi], f"F{cycle:06d}-{k // 2}"), "quantity": 4}],
                               "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:lotline:so:PO-{cycle}-{k}"}],
                               "destinationList": [{"type": "owning_party",
                                                    "destination": f"urn:lotline:customer:C{(cycle * 10 + k) % CUSTOMERS:03d}"}]})
            for ev in events[: n_events - n]:
                f.write(("," if n else "") + json.dumps(ev))
                n += 1
            cycle += 1
        f.write("]}}")


def fresh_database(server: str, name: str):
    server = engine_mod.normalize_url(server)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    eng = engine_mod.create_engine(url)
    migrations.upgrade(eng)
    engine_mod.reset_engine(eng)
    with eng.begin() as c:  # the master data the document does not carry
        c.exec_driver_sql("INSERT INTO locations (id, code, name, kind) VALUES (gen_random_uuid(), 'WH', 'Warehouse', 'storage')")
        c.exec_driver_sql("INSERT INTO vendors (id, code, name) VALUES (gen_random_uuid(), 'MILL', 'Mill')")
        c.exec_driver_sql(
            f"INSERT INTO customers (id, code, name) SELECT gen_random_uuid(), 'C' || lpad(g::text, 3, '0'), 'Customer ' || g"
            f"  FROM generate_series(0, {CUSTOMERS - 1}) g")
    return eng


def drop(server: str, name: str) -> None:
    engine_mod.get_engine().dispose()
    engine_mod.reset_engine(None)
    server = engine_mod.normalize_url(server)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _count_statements() -> list[int]:
    """Count every statement sent, ORM and the SQL runner's alike (psycopg cursors, pipelines too)."""
    counter = [0]
    plain = psycopg.Cursor.execute

    def counted(self, query, params=None, **kw):
        counter[0] += 1
        return plain(self, query, params, **kw)

    psycopg.Cursor.execute = counted  # type: ignore[method-assign]
    return counter


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _capture_worker(server: str, path: str) -> None:
    """One capture of ``path`` into a fresh database of its own; prints events/s and statements as JSON."""
    name = f"lotline_epcis_ab_{os.getpid()}"
    fresh_database(server, name)
    statements = _count_statements()
    t = time.perf_counter()
    job = capture.capture(capture.source_of_path(path), create_master_data=True)
    seconds = time.perf_counter() - t
    drop(server, name)
    n = job.events_total
    print(json.dumps({"status": job.status, "events": n, "seconds": seconds, "events_per_s": n / seconds,
                      "statements_per_event": statements[0] / n, "posted": job.counts["posted"],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def compare(server: str, code: str, events: int, rounds: int, out: Console) -> None:
    """Capture the same document with this code and with ``code``'s src, alternating, in one run."""
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "ab.json"
    write_document(path, events)
    runs: dict[str, list[dict]] = {"this code": [], "starting code": []}
    order = [("this code", None), ("starting code", code)]
    for rnd in range(rounds):
        for label, src in order if rnd % 2 == 0 else order[::-1]:
            env = dict(os.environ)
            if src:
                env["PYTHONPATH"] = os.path.join(src, "src")
            done = subprocess.run([sys.executable, __file__, "--server", server, "--worker-capture", str(path)],
                                  env=env, check=True, capture_output=True, text=True)
            runs[label].append(json.loads(done.stdout.strip().splitlines()[-1]))
    table = Table(title=f"EPCIS capture of the same {events:,}-event document, {rounds} alternating round(s), "
                        f"median (machine load {os.getloadavg()[0]:.1f})")
    for col in ("code", "events/s", "SQL statements per event", "peak RSS MB", "ratio to starting code"):
        table.add_column(col, justify="left" if col == "code" else "right")
    base = statistics.median(r["events_per_s"] for r in runs["starting code"])
    for label, rs in runs.items():
        eps = statistics.median(r["events_per_s"] for r in rs)
        table.add_row(label, f"{eps:,.0f}", f"{rs[0]['statements_per_event']:.1f}",
                      f"{max(r['peak_rss_mb'] for r in rs):.0f}", f"{eps / base:.2f}")
    out.print("per run: " + "; ".join(f"{label} {r['events_per_s']:,.0f}/s ({r['posted']:,} posted, {r['status']})"
                                      for label, rs in runs.items() for r in rs))
    out.print(table)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--profile-events", type=int, default=3000)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--code", help="another checkout (its src/ is used): capture the same document with both, alternating")
    p.add_argument("--rounds", type=int, default=2, help="with --code: captures per code")
    p.add_argument("--worker-capture", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line (bench/run_all.py)")
    a = p.parse_args()
    out = Console()
    if a.worker_capture:
        _capture_worker(a.server, a.worker_capture)
        return
    if a.code:
        compare(a.server, a.code, a.events, a.rounds, out)
        return
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "bench.json"
    t = time.perf_counter()
    write_document(path, a.events)
    out.print(f"document: {a.events:,} events, {path.stat().st_size / 1e6:.1f} MB, written in {time.perf_counter() - t:.1f} s")

    src = capture.source_of_path(path)
    rss_before_validate = rss_mb()
    t = time.perf_counter()
    header = document.read_header(src)
    problems = capture.validate_document(src, header)
    t_validate = time.perf_counter() - t
    assert not problems, problems[:3]
    out.print(f"resident memory around the two validation passes: {rss_before_validate:.0f} MB -> {rss_mb():.0f} MB")

    name = f"lotline_epcis_bench_{os.getpid()}"
    fresh_database(a.server, name)
    marks: dict[int, float] = {}
    slices: list[tuple[int, float]] = []  # (events done, seconds since start) at each tenth of the document

    def progress(done: int, total: int) -> None:
        for pct in (10, 50, 100):
            if pct not in marks and done * 100 >= pct * total:
                marks[pct] = rss_mb()
        if done * 10 >= (len(slices) + 1) * total:
            slices.append((done, time.perf_counter() - t))

    rss0 = rss_mb()
    t = time.perf_counter()
    job = capture.capture(src, create_master_data=True, progress=progress)
    t_capture = time.perf_counter() - t
    if not a.keep:
        drop(a.server, name)

    table = Table(title=f"EPCIS capture, {a.events:,} events (machine load {os.getloadavg()[0]:.1f})")
    for col in ("step", "seconds", "events/s", "ratio to read+validate"):
        table.add_column(col, justify="right" if col != "step" else "left")
    table.add_row("read + validate (2 streamed passes, no database)", f"{t_validate:.1f}", f"{a.events / t_validate:,.0f}", "1.00")
    table.add_row(f"capture ({job.status}: {job.counts['posted']:,} posted, {job.counts['refused']} refused)",
                  f"{t_capture:.1f}", f"{a.events / t_capture:,.0f}", f"{t_capture / t_validate:.1f}")
    out.print(table)
    # the rate per tenth of the document: a statement whose cost grows with the tables shows as a falling rate
    out.print("events/s per tenth of the document: " + ", ".join(
        f"{(d - pd) / (x - px):,.0f}" for (pd, px), (d, x) in zip([(0, 0.0), *slices], slices, strict=False)))
    out.print(f"resident memory: start {rss0:.0f} MB; at 10 % {marks.get(10, 0):.0f} MB, 50 % {marks.get(50, 0):.0f} MB, "
              f"100 % {marks.get(100, 0):.0f} MB; peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    # where the time goes, on a smaller document
    small = tmp / "profile.json"
    write_document(small, a.profile_events)
    fresh_database(a.server, name)
    statements = _count_statements()
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    capture.capture(capture.source_of_path(small), create_master_data=True)
    prof.disable()
    total = time.perf_counter() - t
    drop(a.server, name)
    stats = pstats.Stats(prof).stats
    def cum(fragment: str, func: str) -> float:
        return sum(v[3] for (file, _line, fn), v in stats.items() if file.endswith(fragment) and fn == func)

    parts = [
        ("EPCIS set-based chunk poster (epcis/bulk.py)", cum("epcis/bulk.py", "post_chunk")),
        ("inventory.receive", cum("inventory/service.py", "receive")),
        ("production.execute (+ create_work_order)", cum("production/service.py", "execute") + cum("production/service.py", "create_work_order")),
        ("sales.create_order", cum("sales/service.py", "create_order")),
        ("sales.ship", cum("sales/service.py", "ship")),
        ("commits and savepoint releases", cum("sqlalchemy/orm/session.py", "commit")),
    ]
    services = sum(x for _n, x in parts)
    prof_table = Table(title=f"where the time goes: profiled capture of {a.profile_events:,} events, {total:.1f} s "
                             f"({a.profile_events / total:,.0f} events/s under the profiler), "
                             f"{statements[0] / a.profile_events:.1f} SQL statements per event")
    prof_table.add_column("part")
    prof_table.add_column("seconds", justify="right")
    prof_table.add_column("share", justify="right")
    for n, x in parts:
        prof_table.add_row(n, f"{x:.1f}", f"{x / total:.0%}")
    prof_table.add_row("everything else (EPCIS parse/validate/map, job rows, savepoints)", f"{total - services:.1f}",
                       f"{(total - services) / total:.0%}")
    out.print(prof_table)
    if a.json:
        print(json.dumps({"bench": "epcis", "figures": [{
            "name": f"EPCIS capture, {a.events:,} events", "value": round(a.events / t_capture, 1), "unit": "events/s",
            "reference": "read + validate alone (no database)", "reference_value": round(a.events / t_validate, 1),
            "ratio": round(t_capture / t_validate, 2), "goal": ">= 2000 events/s",
        }]}))


if __name__ == "__main__":
    main()
