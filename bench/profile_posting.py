"""Where a posting's time goes: bench_posting.py's cycle, document by document, in one process.

Per document (or per batch): wall ms, this process's CPU ms, the server backend's CPU ms (from
/proc: the database must run on this machine), statements sent, ms spent in them, ms in COMMIT,
and round trips (statements outside a pipeline + pipelines + BEGINs + commits), each per cycle. CPU per
line is the figure that load on a shared machine moves least; round trips are what load makes
expensive (each one waits for a core twice).

    CODE=/path/to/checkout .venv/bin/python bench/profile_posting.py URL WIDTH CYCLES [BATCH]

``CODE``: the checkout whose src/ is profiled (default: this one). ``SHOW=receipt`` (or transfer,
execution, order, shipment, batch) prints that document's statements. Writes to the database it
is given: a scratch one, never the shared lotline_bench.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("CODE", os.path.dirname(HERE)), "src"))
sys.path.insert(0, HERE)

import bench_posting as bp  # noqa: E402
import psycopg  # noqa: E402  (after the path: the profiled checkout's lotline)

D = Decimal
current = ["setup"]
statements: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])  # label -> [count, seconds]
commits: dict[str, list[float]] = collections.defaultdict(list)
trips: collections.Counter = collections.Counter()

_execute, _commit, _pipeline = psycopg.Cursor.execute, psycopg.Connection.commit, psycopg.Connection.pipeline


def _counted_execute(self, query, params=None, **kw):
    t = time.perf_counter()
    try:
        return _execute(self, query, params, **kw)
    finally:
        entry = statements[current[0]]
        entry[0] += 1
        entry[1] += time.perf_counter() - t
        if not getattr(self._conn, "_pipeline", None):
            trips[current[0]] += 1
        if os.environ.get("SHOW") == current[0]:
            print(f"  [{(time.perf_counter() - t) * 1000:6.2f} ms] " + " ".join(str(query).split())[:200])


def _counted_commit(self):
    t = time.perf_counter()
    try:
        return _commit(self)
    finally:
        commits[current[0]].append(time.perf_counter() - t)


@contextlib.contextmanager
def _counted_pipeline(self):
    outer = getattr(self, "_pipeline", None)
    with _pipeline(self) as p:
        yield p
    if not outer:
        trips[current[0]] += 1


_tx_start = psycopg.Connection._get_tx_start_command


def _counted_tx_start(self):
    # psycopg's own BEGIN: a round trip of its own outside a pipeline (a statement's first)
    if not getattr(self, "_pipeline", None):
        trips[current[0]] += 1
    return _tx_start(self)


psycopg.Cursor.execute = _counted_execute
psycopg.Connection.commit = _counted_commit
psycopg.Connection.pipeline = _counted_pipeline
psycopg.Connection._get_tx_start_command = _counted_tx_start

from lotline.db import engine as _engine  # noqa: E402  (the profiled checkout's)

if hasattr(_engine, "_open_transaction"):  # BEGIN and the settings sent on checkout: one round trip
    _open = _engine._open_transaction

    def _counted_open(conn, settings):
        trips[current[0]] += 1
        return _open(conn, settings)

    _engine._open_transaction = _counted_open


def _backend_cpu(pids: set[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main() -> None:  # noqa: C901 — a profiling script: its steps in one place
    url, width, cycles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    os.environ["LOTLINE_DATABASE_URL"] = url
    import sqlalchemy as sa

    from lotline.db import get_engine, retry
    from lotline.inventory import batch as batching
    from lotline.inventory import service as inventory
    from lotline.inventory.batch_schemas import BatchIn
    from lotline.inventory.schemas import ReceiptIn, TransferIn
    from lotline.production import service as production
    from lotline.production.schemas import ExecutionIn, WorkOrderIn
    from lotline.sales import service as sales
    from lotline.sales.schemas import SalesOrderIn, ShipmentIn

    tag = f"P{uuid.uuid4().hex[:6]}"
    bp._setup(tag, 1, width)
    raws = [f"{tag}-0-R{k}" for k in range(width)]
    a, b = f"{tag}-A", f"{tag}-B"
    retry.run_transaction(lambda s: production.create_work_order(
        s, WorkOrderIn(number=f"{tag}-WO-0", item=f"{tag}-0-P", planned_quantity=D(10**9))))
    with get_engine().connect() as conn:  # one client: the pool hands out this connection again
        pids = {conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()}
    wall: dict[str, float] = collections.defaultdict(float)
    cpu: dict[str, float] = collections.defaultdict(float)
    server: dict[str, float] = collections.defaultdict(float)

    def run(label, fn):
        current[0] = label
        t, p, q = time.perf_counter(), time.process_time(), _backend_cpu(pids)
        retry.run_transaction(fn)
        wall[label] += time.perf_counter() - t
        cpu[label] += time.process_time() - p
        server[label] += _backend_cpu(pids) - q

    statements.clear()
    commits.clear()
    trips.clear()
    t0 = time.perf_counter()
    if batch:
        n = 0
        for _ in range(cycles // batch):
            now = datetime.now(UTC)
            docs = []
            for _ in range(batch):
                n += 1
                docs += bp._cycle_documents(tag, 0, n, width, now)
            data = BatchIn(documents=docs)
            run("batch", lambda s, d=data: batching.post_batch(s, d))
    else:
        for n in range(1, cycles + 1):
            now = datetime.now(UTC)
            receipt = ReceiptIn(vendor=f"{tag}-V", occurred_at=now, lines=[
                {"item": r, "location": a, "quantity": D(100), "lots": [{"lot_code": f"L0-{n}-{k}", "quantity": D(100)}]}
                for k, r in enumerate(raws)])
            run("receipt", lambda s, d=receipt: inventory.receive(s, d))
            transfer = TransferIn(item=raws[0], from_location=a, to_location=b, quantity=D(30))
            run("transfer", lambda s, d=transfer: inventory.transfer(s, d))
            execution = ExecutionIn(consume=[{"item": r, "location": a, "quantity": D(20)} for r in raws[1:]],
                                    produce=[{"location": a, "quantity": D(40), "lot_code": f"P0-{n}"}])
            run("execution", lambda s, d=execution: production.execute(s, f"{tag}-WO-0", d))
            number = f"{tag}-SO-0-{n}"
            order = SalesOrderIn(number=number, customer=f"{tag}-C",
                                 lines=[{"item": r, "quantity": D(10), "due_date": now.date()} for r in raws[::-1]])
            run("order", lambda s, d=order: sales.create_order(s, d))
            shipment = ShipmentIn(lines=[{"line_no": k + 1, "location": a, "quantity": D(10)} for k in range(width)])
            run("shipment", lambda s, d=shipment, no=number: sales.ship(s, no, d))
    total = time.perf_counter() - t0
    lines = cycles * (3 * width + 2)
    print(f"width {width}, {cycles} cycles, batch {batch}: {total:.2f} s, {lines / total:.0f} lines/s, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'document':10} {'wall ms':>8} {'cpu ms':>8} {'srv ms':>8} {'stmts':>6} {'stmt ms':>8} "
          f"{'commit ms':>9} {'trips':>6}   (per cycle)")
    for k in wall:
        count, secs = statements.get(k, [0, 0.0])
        cm = commits.get(k, [])
        print(f"{k:10} {wall[k] / cycles * 1000:8.2f} {cpu[k] / cycles * 1000:8.2f} {server[k] / cycles * 1000:8.2f} "
              f"{count / cycles:6.1f} {secs / cycles * 1000:8.2f} {sum(cm) / cycles * 1000:9.2f} "
              f"{(trips[k] + len(cm)) / cycles:6.1f}")
    cpu_total = (sum(cpu.values()) + sum(server.values())) / cycles * 1000
    round_trips = (sum(trips.values()) + sum(len(v) for v in commits.values())) / cycles
    print(f"per cycle: {total / cycles * 1000:.1f} ms wall, {round_trips:.1f} round trips, "
          f"{sum(cpu.values()) / cycles * 1000:.1f} ms client CPU + {sum(server.values()) / cycles * 1000:.1f} ms "
          f"server CPU = {cpu_total / (3 * width + 2):.2f} ms CPU per line")


if __name__ == "__main__":
    main()
