"""Audit trail benchmark: the cost of auditing on posting, audit on vs off interleaved in one run.

    .venv/bin/python bench/bench_audit.py [--url postgresql://postgres@127.0.0.1:5432/lotline_audit_bench]
                                          [--rounds 24] [--cycles 8] [--width 4] [--json]

Builds (drops and re-creates) its own database at ``--url`` — never the shared benchmark set —
with a few items, locations, a vendor and a customer, then posts through the real services and
the one transaction boundary, each posting its own committed transaction, as a named user. A
cycle is the posting benchmark's mix (bench_posting.py): a W-line receipt into new lots, a FEFO
transfer (2 lines), a production execution consuming W-1 items and producing a lot (W lines), a
W-line sales order and its FEFO shipment (W lines).

Noise (2 shared cores): a round runs ``--cycles`` cycles with auditing on and as many with it off,
back to back, alternating which mode goes first (on/off, off/on, ...), so a burst of load from
elsewhere hits both halves of a round alike; the figure is the **median over rounds** of each
round's time ratio on / off, given with its spread (quartiles, min, max). Auditing is switched by
``ALTER TABLE ... DISABLE/ENABLE TRIGGER`` on the audit triggers (statement-level since migration
0031); one untimed cycle after each switch re-plans the statements. Reads are untouched by design
— no trigger fires on SELECT and the trace reads no audit table — so the most-used lot's trace is
not re-measured here (bench_trace.py).

Goal of issue 12: posting with auditing on within 15 % of it off (time ratio on / off <= 1.15).
``--json``: also print, as the last line, the summary {"bench": "audit", "figures": [...]}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from lotline import db
from lotline.auth import service as auth_service
from lotline.auth.schemas import UserIn
from lotline.catalog import service as catalog
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.db import engine as engine_mod
from lotline.db import migrations
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn, TransferIn
from lotline.production import service as production
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.sales import service as sales
from lotline.sales.schemas import SalesOrderIn, ShipmentIn

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/lotline_audit_bench"
GOAL = 1.15
D = Decimal
KINDS = ("receipt", "transfer", "execution", "order + shipment")
AUDIT_TRIGGERS = (
    "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
    " WHERE t.tgfoid IN (SELECT oid FROM pg_proc WHERE proname IN ('lotline_audit_statement', 'lotline_audit_row'))"
    " AND NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace ORDER BY 1, 2"
)


def _prepare(url: str) -> sa.Engine:
    url = engine_mod.normalize_url(url)
    parsed = make_url(url)
    if parsed.database == "lotline_bench":
        raise SystemExit("refusing to re-create the shared lotline_bench; give a scratch database URL")
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    admin.dispose()
    engine = engine_mod.create_engine(url)
    migrations.upgrade(engine)
    engine_mod.reset_engine(engine)
    return engine


def _master_data(width: int) -> None:
    with db.transaction(actor="os:bench") as s:
        auth_service.add_user(s, UserIn(name="bench", full_name="Bench Operator", roles=["operator"]))
        for k in range(width):
            catalog.create_item(s, ItemIn(sku=f"RAW-{k}", name=f"Raw {k}", uom="kg", shelf_life_days=365))
        catalog.create_item(s, ItemIn(sku="PROD", name="Product", uom="ea", shelf_life_days=30))
        catalog.create_location(s, LocationIn(code="A", name="A", kind="storage"))
        catalog.create_location(s, LocationIn(code="B", name="B", kind="storage"))
        catalog.create_vendor(s, PartyIn(code="V", name="Vendor"))
        catalog.create_customer(s, PartyIn(code="C", name="Customer"))
        production.create_work_order(s, WorkOrderIn(number="WO", item="PROD", planned_quantity=D(10**9)))


def _set_triggers(engine: sa.Engine, triggers: list[tuple[str, str]], enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    with engine.begin() as conn:
        for table, trigger in triggers:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" {verb} TRIGGER "{trigger}"')


def _post(fn: Callable) -> None:
    with db.transaction(actor="user:bench") as s:
        fn(s)


def _cycle(tag: str, n: int, width: int, times: dict[str, float]) -> int:
    """One mixed cycle; adds each kind's seconds to ``times``; returns the lines posted."""
    raws = [f"RAW-{k}" for k in range(width)]
    now = datetime.now(UTC)
    number = f"SO-{tag}-{n}"
    steps = [
        ("receipt", lambda s: inventory.receive(s, ReceiptIn(vendor="V", occurred_at=now, lines=[
            {"item": r, "location": "A", "quantity": D(100), "lots": [{"lot_code": f"{tag}-{n}-{k}", "quantity": D(100)}]}
            for k, r in enumerate(raws)]))),
        ("transfer", lambda s: inventory.transfer(s, TransferIn(item=raws[0], from_location="A", to_location="B",
                                                                quantity=D(30)))),
        ("execution", lambda s: production.execute(s, "WO", ExecutionIn(
            consume=[{"item": r, "location": "A", "quantity": D(20)} for r in raws[1:]],
            produce=[{"location": "A", "quantity": D(40), "lot_code": f"P-{tag}-{n}"}]))),
        ("order + shipment", lambda s: sales.ship(s, sales.create_order(s, SalesOrderIn(
            number=number, customer="C",
            lines=[{"item": r, "quantity": D(10), "due_date": now.date()} for r in raws[::-1]])).number,
            ShipmentIn(lines=[{"line_no": k + 1, "location": "A", "quantity": D(10)} for k in range(width)]))),
    ]
    for kind, fn in steps:
        t0 = time.perf_counter()
        _post(fn)
        times[kind] += time.perf_counter() - t0
    return width + 2 + width + width


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def main() -> None:  # noqa: C901 — a benchmark script: its rounds, table and summary in one place
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=DEFAULT_URL, help="a scratch database (dropped and re-created)")
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--cycles", type=int, default=8, help="cycles per mode per round")
    parser.add_argument("--width", type=int, default=4, help="lines per receipt / execution / shipment")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    args = parser.parse_args()
    console = Console()
    engine = _prepare(args.url)
    _master_data(args.width)
    with engine.connect() as conn:
        triggers = [(t, g) for t, g in conn.execute(sa.text(AUDIT_TRIGGERS))]
    n = 0
    for _ in range(5):  # warm caches and prepared plans
        n += 1
        _cycle("warm", n, args.width, defaultdict(float))
    ratios: list[float] = []
    kind_times: dict[tuple[str, bool], list[float]] = defaultdict(list)
    rates: dict[bool, list[float]] = defaultdict(list)
    for r in range(args.rounds):
        elapsed: dict[bool, float] = {}
        for on in ([True, False] if r % 2 == 0 else [False, True]):
            _set_triggers(engine, triggers, on)
            n += 1
            _cycle("warm", n, args.width, defaultdict(float))  # re-plan after the ALTER TABLE
            times: dict[str, float] = defaultdict(float)
            lines = 0
            for _ in range(args.cycles):
                n += 1
                lines += _cycle(f"r{r}", n, args.width, times)
            elapsed[on] = sum(times.values())
            rates[on].append(lines / elapsed[on])
            for kind in KINDS:
                kind_times[(kind, on)].append(times[kind] / args.cycles)
        ratios.append(elapsed[True] / elapsed[False])
    _set_triggers(engine, triggers, True)
    with engine.connect() as conn:
        entries = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
    engine.dispose()

    median = statistics.median(ratios)
    q1, q3 = _quartiles(ratios)
    table = Table(title=f"Posting with auditing on vs off: {args.rounds} interleaved rounds x {args.cycles} cycles "
                        f"per mode (width {args.width}; medians over rounds)")
    for col in ("posting", "audit off ms", "audit on ms", "on / off"):
        table.add_column(col, justify="right" if col != "posting" else "left")
    for kind in KINDS:
        off = statistics.median(kind_times[(kind, False)]) * 1000
        on = statistics.median(kind_times[(kind, True)]) * 1000
        table.add_row(kind, f"{off:.1f}", f"{on:.1f}", f"{on / off:.2f}")
    off_rate, on_rate = statistics.median(rates[False]), statistics.median(rates[True])
    table.add_row("[b]whole cycle, lines/s[/]", f"{off_rate:.0f}", f"{on_rate:.0f}", "")
    console.print(table)
    verdict = "[green]within[/]" if median <= GOAL else "[red]over[/]"
    console.print(
        f"time ratio on / off per round: median [b]{median:.3f}[/] (quartiles {q1:.3f}-{q3:.3f}, "
        f"min {min(ratios):.3f}, max {max(ratios):.3f}) -> auditing costs {100 * (median - 1):+.1f} % "
        f"({verdict} the goal of +{100 * (GOAL - 1):.0f} %); {len(triggers)} audit triggers switched; "
        f"audit entries written: {entries:,}"
    )
    if args.json:
        print(json.dumps({"bench": "audit", "figures": [{
            "name": "posting time, audit on / off (median of interleaved rounds)",
            "value": round(median, 4), "unit": "ratio", "reference": "audit off, same rounds",
            "reference_value": 1.0, "ratio": round(median, 4), "goal": f"<= {GOAL}",
            "spread": {"q1": round(q1, 4), "q3": round(q3, 4), "min": round(min(ratios), 4), "max": round(max(ratios), 4)},
        }, {
            "name": "mixed posting, audit on", "value": round(on_rate, 1), "unit": "lines/s",
            "reference": "audit off", "reference_value": round(off_rate, 1), "ratio": round(on_rate / off_rate, 4),
            "goal": None,
        }]}))


if __name__ == "__main__":
    main()
