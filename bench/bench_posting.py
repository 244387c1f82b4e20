"""Posting throughput: mixed receipts, transfers, executions and shipments through the services.

Each client is a process with its own connection; every posting is one transaction through the
entrypoint's retrying runner (``lotline.db.retry``), validated by the full lot rules. A cycle is a
W-line receipt (new lots), a FEFO transfer (2 lines), an execution consuming W-1 items FEFO and
producing one lot (W lines) and a W-line FEFO shipment of a sales order (``--widths``: W per
document; ERP documents carry tens of lines, and a posting's statements are per document, set-based
over its lines, so lines/s grow with W).
Clients post their own items (contention between clients is the concurrency tests' business;
here it is throughput), against one shared customer.

Also the cost of one shipment against database size: the same single-line FEFO shipment of an
existing item on a scale-100 database and on a copy of the scale-1000 benchmark data
(``--size-urls``), median of N.

``--batches N,...`` also posts N cycles per transaction through the batch entry point
(``inventory/batch.py``: an ERP batch, an EPCIS chunk), with the same services and rules.

``--code DIR`` runs the same workload with another checkout's ``src`` (e.g. the starting code, in
a git worktree) in the same run, for the ratio to it. Writes only to the databases it is given:
never point it at the shared ``lotline_bench``.

    .venv/bin/python bench/bench_posting.py --database-url postgresql://postgres@127.0.0.1:5432/posting_s100 \\
        --seconds 20 --clients 1,4 [--code /tmp/lotline_base [--code-url URL]] [--size-urls URL100,URL1000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

GOAL = {1: 500, 4: 2000}
ROUNDS = 5
D = Decimal


def _transaction(fn):
    try:
        from lotline.db import retry
    except ImportError:  # the starting code had no retrying runner
        from lotline.db import transaction

        with transaction() as s:
            return fn(s)
    return retry.run_transaction(fn)


def _setup(tag: str, clients: int, width: int) -> None:
    from lotline.catalog import service as catalog
    from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn

    def make(s):
        for code in ("A", "B"):
            catalog.create_location(s, LocationIn(code=f"{tag}-{code}", name=f"bench {code}", kind="storage"))
        catalog.create_vendor(s, PartyIn(code=f"{tag}-V", name="bench vendor", contact_email="v@example.com"))
        catalog.create_customer(
            s, PartyIn(code=f"{tag}-C", name="bench customer", contact_email="c@example.com")
        )
        for c in range(clients):
            for k in range(width):
                catalog.create_item(
                    s, ItemIn(sku=f"{tag}-{c}-R{k}", name="raw", uom="kg", shelf_life_days=90)
                )
            catalog.create_item(s, ItemIn(sku=f"{tag}-{c}-P", name="product", uom="ea", shelf_life_days=30))

    _transaction(make)


def _cycle_documents(tag: str, c: int, n: int, width: int, now: datetime) -> list[dict]:
    """One cycle as batch documents (inventory/batch.py): the same postings as ``_client`` makes."""
    raws = [f"{tag}-{c}-R{k}" for k in range(width)]
    a, b = f"{tag}-A", f"{tag}-B"
    number = f"{tag}-SO-{c}-{n}"
    return [
        {"kind": "receipt", "data": {"vendor": f"{tag}-V", "occurred_at": now, "lines": [
            {"item": r, "location": a, "quantity": D(100), "lots": [{"lot_code": f"L{c}-{n}-{k}", "quantity": D(100)}]}
            for k, r in enumerate(raws)]}},
        {"kind": "transfer", "data": {"item": raws[0], "from_location": a, "to_location": b, "quantity": D(30)}},
        {"kind": "execution", "work_order": f"{tag}-WO-{c}", "data": {
            "consume": [{"item": r, "location": a, "quantity": D(20)} for r in raws[1:]],
            "produce": [{"location": a, "quantity": D(40), "lot_code": f"P{c}-{n}"}]}},
        {"kind": "sales_order", "data": {"number": number, "customer": f"{tag}-C", "lines": [
            {"item": r, "quantity": D(10), "due_date": now.date()} for r in raws[::-1]]}},
        {"kind": "shipment", "order": number, "data": {"lines": [
            {"line_no": k + 1, "location": a, "quantity": D(10)} for k in range(width)]}},
    ]


def _batch_client(url: str, tag: str, c: int, seconds: float, out, width: int, batch: int) -> None:
    """Like ``_client``, ``batch`` cycles per transaction through ``inventory.batch.post_batch``."""
    os.environ["LOTLINE_DATABASE_URL"] = url
    from lotline.inventory import batch as batching
    from lotline.inventory.batch_schemas import BatchIn
    from lotline.production import service as production
    from lotline.production.schemas import WorkOrderIn

    _transaction(
        lambda s: production.create_work_order(
            s, WorkOrderIn(number=f"{tag}-WO-{c}", item=f"{tag}-{c}-P", planned_quantity=D(10**9))
        )
    )
    lines = cycles = n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        now = datetime.now(UTC)
        docs = []
        for _ in range(batch):
            n += 1
            docs += _cycle_documents(tag, c, n, width, now)
        data = BatchIn(documents=docs)
        _transaction(lambda s, d=data: batching.post_batch(s, d))
        lines += batch * (width + 2 + width + width)
        cycles += batch
    out.put((lines, cycles, time.perf_counter() - start))


def _client(url: str, tag: str, c: int, seconds: float, out, width: int = 4) -> None:
    os.environ["LOTLINE_DATABASE_URL"] = url
    from lotline.inventory import service as inventory
    from lotline.inventory.schemas import ReceiptIn, TransferIn
    from lotline.production import service as production
    from lotline.production.schemas import ExecutionIn, WorkOrderIn
    from lotline.sales import service as sales
    from lotline.sales.schemas import SalesOrderIn, ShipmentIn

    raws = [f"{tag}-{c}-R{k}" for k in range(width)]
    prod = f"{tag}-{c}-P"
    a, b = f"{tag}-A", f"{tag}-B"
    _transaction(
        lambda s: production.create_work_order(
            s, WorkOrderIn(number=f"{tag}-WO-{c}", item=prod, planned_quantity=D(10**9))
        )
    )
    lines = cycles = 0
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        n += 1
        now = datetime.now(UTC)
        receipt = ReceiptIn(
            vendor=f"{tag}-V",
            occurred_at=now,
            lines=[
                {
                    "item": r,
                    "location": a,
                    "quantity": D(100),
                    "lots": [{"lot_code": f"L{c}-{n}-{k}", "quantity": D(100)}],
                }
                for k, r in enumerate(raws)
            ],
        )
        _transaction(lambda s, d=receipt: inventory.receive(s, d))
        transfer = TransferIn(item=raws[0], from_location=a, to_location=b, quantity=D(30))
        _transaction(lambda s, d=transfer: inventory.transfer(s, d))
        execution = ExecutionIn(
            consume=[{"item": r, "location": a, "quantity": D(20)} for r in raws[1:]],
            produce=[{"location": a, "quantity": D(40), "lot_code": f"P{c}-{n}"}],
        )
        _transaction(lambda s, d=execution: production.execute(s, f"{tag}-WO-{c}", d))
        number = f"{tag}-SO-{c}-{n}"
        order = SalesOrderIn(
            number=number,
            customer=f"{tag}-C",
            lines=[{"item": r, "quantity": D(10), "due_date": now.date()} for r in raws[::-1]],
        )
        _transaction(lambda s, d=order: sales.create_order(s, d))
        shipment = ShipmentIn(
            lines=[{"line_no": k + 1, "location": a, "quantity": D(10)} for k in range(width)]
        )
        _transaction(lambda s, d=shipment, no=number: sales.ship(s, no, d))
        lines += width + 2 + width + width
        cycles += 1
    out.put((lines, cycles, time.perf_counter() - start))


def throughput(url: str, clients: int, seconds: float, width: int, batch: int = 0) -> dict:
    """Validated lines per second with ``clients`` processes posting for ``seconds``.

    ``batch``: cycles per transaction through the batch entry point (0: one document per transaction).
    """
    os.environ["LOTLINE_DATABASE_URL"] = url
    tag = f"B{uuid.uuid4().hex[:6]}"
    _setup(tag, clients, width)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_batch_client, args=(url, tag, c, seconds, out, width, batch))
        if batch
        else ctx.Process(target=_client, args=(url, tag, c, seconds, out, width))
        for c in range(clients)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 300) for _ in procs]
    for p in procs:
        p.join()
    lines = sum(r[0] for r in results)
    elapsed = max(r[2] for r in results)
    return {
        "clients": clients,
        "width": width,
        "batch": batch,
        "lines": lines,
        "seconds": elapsed,
        "lines_per_s": lines / elapsed,
    }


def shipment_cost(url: str, repeats: int) -> dict:
    """Median ms of one single-line FEFO shipment where the item has the most balance rows at a place."""
    import sqlalchemy as sa

    os.environ["LOTLINE_DATABASE_URL"] = url
    from lotline.db import get_engine
    from lotline.sales import service as sales
    from lotline.sales.schemas import SalesOrderIn, ShipmentIn

    with get_engine().connect() as conn:
        sku, loc, customer, balance_rows = conn.execute(
            sa.text(
                """
                SELECT i.sku, l.code, (SELECT code FROM customers ORDER BY code LIMIT 1),
                       (SELECT count(*) FROM inventory_balances x WHERE x.item_id = b.item_id AND x.location_id = b.location_id) AS n
                  FROM inventory_balances b
                  JOIN items i ON i.id = b.item_id JOIN locations l ON l.id = b.location_id
                  JOIN lots t ON t.id = b.lot_id
                 WHERE b.quantity >= 1 AND t.status = 'active' AND (t.expires_at IS NULL OR t.expires_at > now())
                   AND i.name NOT IN ('raw', 'product')  -- not this bench's own items
                 GROUP BY i.sku, l.code, b.item_id, b.location_id
                 ORDER BY n DESC LIMIT 1
                """
            )
        ).one()
    times = []
    tag = uuid.uuid4().hex[:6]
    for n in range(repeats):
        number = f"SZ-{tag}-{n}"
        _transaction(
            lambda s, no=number: sales.create_order(
                s,
                SalesOrderIn(
                    number=no,
                    customer=customer,
                    lines=[{"item": sku, "quantity": D("0.001"), "due_date": datetime.now(UTC).date()}],
                ),
            )
        )
        data = ShipmentIn(lines=[{"line_no": 1, "location": loc, "quantity": D("0.001")}])
        t0 = time.perf_counter()
        _transaction(lambda s, d=data, no=number: sales.ship(s, no, d))
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "url": url.rsplit("/", 1)[-1],
        "sku": sku,
        "location": loc,
        "balance_rows": balance_rows,
        "median_ms": statistics.median(times),
    }


def _in_subprocess(code: str | None, args: list[str]) -> dict:
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = os.path.join(code, "src")
    cmd = [sys.executable, __file__, *args]
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:  # noqa: C901 — a benchmark script: its modes and measured steps in one place
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=False)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", default="1,4")
    ap.add_argument(
        "--widths", default="4", help="lines per receipt/execution/shipment document, comma-separated"
    )
    ap.add_argument("--code", help="another checkout (its src/ is used) to measure in the same run")
    ap.add_argument(
        "--code-url", help="the database --code posts to (default: --database-url); a copy of it at that "
        "checkout's migration head, when this code's migrations change what a posting runs (triggers)"
    )
    ap.add_argument(
        "--batches", default="0", help="cycles per transaction through the batch entry point, comma-separated "
        "(0: one document per transaction); each code is measured at each"
    )
    ap.add_argument("--size-urls", help="two scratch database URLs (small, large) for the shipment cost")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=1, help="throughput runs per configuration, order alternated; median")
    ap.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help="print a JSON summary as the last line (bench/run_all.py)")
    args, rest = ap.parse_known_args()
    figures: list[dict] = []
    if args.worker is not None:
        kind, url, value, *more = args.worker
        import lotline

        result = (
            throughput(url, int(value), args.seconds, int(more[0]), int(more[1]) if len(more) > 1 else 0)
            if kind == "tp"
            else shipment_cost(url, int(value))
        )
        result["code"] = os.path.dirname(lotline.__file__)
        print(json.dumps(result))
        return
    for url in [args.database_url, args.code_url, *(args.size_urls.split(",") if args.size_urls else [])]:
        if url and url.rstrip("/").endswith("/lotline_bench"):
            sys.exit("refusing to write to the shared lotline_bench; use a scratch copy")
    codes = [("this code", None)] + ([("starting code", args.code)] if args.code else [])
    if args.database_url:
        print(
            f"\nPosting throughput, {args.seconds:g} s per run, median of {args.rounds} round(s), "
            f"database {args.database_url.rsplit('/', 1)[-1]}"
            + (f" (starting code: {args.code_url.rsplit('/', 1)[-1]})" if args.code and args.code_url else "")
            + f", load {os.getloadavg()[0]:.1f}\n"
        )
        print(
            "| code | lines per document | cycles per transaction | clients | lines | lines/s | goal | ratio to goal "
            "| ratio to starting code |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        measured: dict = {}
        batches = [int(x) for x in args.batches.split(",")]
        for width in [int(x) for x in args.widths.split(",")]:
            for clients in [int(x) for x in args.clients.split(",")]:
                runs = [(name, code, b) for b in batches for name, code in codes]
                per_run: dict = {}
                for rnd in range(args.rounds):  # rounds alternate the order: the machine's load hits all alike
                    for name, code, b in runs if rnd % 2 == 0 else runs[::-1]:
                        url = (args.code_url or args.database_url) if code else args.database_url
                        worker = ["--seconds", str(args.seconds), "--worker", "tp", url, str(clients),
                                  str(width), str(b)]
                        per_run.setdefault((name, clients, b), []).append(_in_subprocess(code, worker))
                for key, rs in per_run.items():
                    median = statistics.median(r["lines_per_s"] for r in rs)
                    measured[key] = {**rs[0], "lines": sum(r["lines"] for r in rs), "lines_per_s": median}
                for name, _, b in runs:
                    r = measured[(name, clients, b)]
                    base = measured.get(("starting code", clients, b))
                    goal = GOAL.get(clients)
                    vs = f"{r['lines_per_s'] / base['lines_per_s']:.1f}×" if base else "—"
                    print(
                        f"| {name} | {width} | {b or 1} | {clients} | {r['lines']} | {r['lines_per_s']:.0f} | "
                        f"{goal or '—'} | {(r['lines_per_s'] / goal) if goal else float('nan'):.2f} | {vs} |"
                    )
                    figures.append({
                        "name": f"validated posting, {clients} client(s), {width} lines per document, "
                                f"{b or 1} cycle(s) per transaction ({name})",
                        "value": round(r["lines_per_s"], 1), "unit": "lines/s", "reference": "goal",
                        "reference_value": goal, "ratio": round(r["lines_per_s"] / goal, 3) if goal else None,
                        "goal": f">= {goal}" if goal else None,
                    })
    if args.size_urls:
        small, large = args.size_urls.split(",")
        print(f"\nOne single-line FEFO shipment vs database size, median of {ROUNDS} alternating rounds\n")
        print(
            "| code | database | item @ location | balance rows there | median ms | large ÷ small (goal ≤ 1.2) |"
        )
        print("|---|---|---|---:|---:|---:|")
        for name, code in codes:
            # rounds alternate small and large, so that the machine's load hits both alike
            per_round = max(1, args.repeats // ROUNDS)
            runs = {u: [] for u in (small, large)}
            for _ in range(ROUNDS):
                for u in (small, large):
                    runs[u].append(_in_subprocess(code, ["--worker", "sz", u, str(per_round)]))
            rs = [{**runs[u][0], "median_ms": statistics.median(r["median_ms"] for r in runs[u])} for u in (small, large)]
            for r in rs:
                ratio = f"{rs[1]['median_ms'] / rs[0]['median_ms']:.2f}" if r is rs[1] else ""
                print(
                    f"| {name} | {r['url']} | {r['sku']} @ {r['location']} | {r['balance_rows']} | {r['median_ms']:.1f} | {ratio} |"
                )
            figures.append({
                "name": f"one shipment, large vs small database ({name})", "value": round(rs[1]["median_ms"], 1),
                "unit": "ms", "reference": f"small database {rs[0]['url']}", "reference_value": round(rs[0]["median_ms"], 1),
                "ratio": round(rs[1]["median_ms"] / rs[0]["median_ms"], 3), "goal": "<= 1.2",
            })
    if args.json:
        print(json.dumps({"bench": "posting", "figures": figures}))


if __name__ == "__main__":
    main()
