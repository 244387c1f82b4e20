"""Audit trail benchmark: posting throughput with the audit triggers on vs off, in one run.

    .venv/bin/python bench/bench_audit.py [--url postgresql://postgres@127.0.0.1:5432/lotline_audit_bench]
                                          [--postings 300] [--rounds 3]

Builds (drops and re-creates) its own database at ``--url`` — never the shared benchmark set —
with a few items, locations and a vendor, then posts through the real services and the one
transaction boundary, each posting its own committed transaction, as a named user:

- receipts of three lot-tracked lines (a movement, 3 lines, 3 lot rows, 3 new lots, 3 balances);
- transfers of one lot between two locations (a movement, 2 lines, 2 lot rows, 2 balances).

Each round times ``--postings`` of each kind with the ``lotline_audit`` row triggers enabled, then
with them disabled (``ALTER TABLE … DISABLE TRIGGER``), alternating which goes first, so both see
the same machine load. The table gives postings/s per mode and the ratio (goal of issue 12: audit
on within 15 % of off). Reads are untouched by design — no trigger fires on SELECT and the trace
reads no audit table — so the most-used lot's trace is not re-measured here (bench_trace.py).
"""

from __future__ import annotations

import argparse
import statistics
import time

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/lotline_audit_bench"


def _prepare(url: str):
    from lotline.db import engine as engine_mod
    from lotline.db import migrations

    url = engine_mod.normalize_url(url)
    parsed = make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    admin.dispose()
    engine = engine_mod.create_engine(url)
    migrations.upgrade(engine)
    engine_mod.reset_engine(engine)
    return engine, url


def _master_data() -> None:
    from lotline import db
    from lotline.auth import service as auth_service
    from lotline.auth.schemas import UserIn
    from lotline.catalog import service as catalog
    from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn

    with db.transaction(actor="os:bench") as s:
        auth_service.add_user(s, UserIn(name="bench", full_name="Bench Operator", roles=["operator"]))
        for n in range(3):
            catalog.create_item(s, ItemIn(sku=f"RAW-{n}", name=f"Raw {n}", uom="kg", shelf_life_days=365))
        catalog.create_location(s, LocationIn(code="A", name="A", kind="storage"))
        catalog.create_location(s, LocationIn(code="B", name="B", kind="storage"))
        catalog.create_vendor(s, PartyIn(code="V", name="Vendor"))


def _set_triggers(engine, enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    with engine.begin() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname = 'lotline_audit' AND c.relnamespace = 'public'::regnamespace"
            )
        ).scalars().all()
        for table in tables:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" {verb} TRIGGER lotline_audit')


def _receipts(n: int, tag: str) -> float:
    from lotline import db
    from lotline.inventory import service as inventory
    from lotline.inventory.schemas import ReceiptIn

    start = time.perf_counter()
    for i in range(n):
        lines = [
            {"item": f"RAW-{k}", "location": "A", "quantity": "100", "lots": [{"lot_code": f"{tag}-{i}-{k}", "quantity": "100"}]}
            for k in range(3)
        ]
        with db.transaction(actor="user:bench") as s:
            inventory.receive(s, ReceiptIn(vendor="V", lines=lines))
    return n / (time.perf_counter() - start)


def _transfers(n: int, tag: str) -> float:
    from lotline import db
    from lotline.inventory import service as inventory
    from lotline.inventory.schemas import TransferIn

    start = time.perf_counter()
    for i in range(n):
        with db.transaction(actor="user:bench") as s:
            inventory.transfer(
                s,
                TransferIn(
                    item="RAW-0", from_location="A", to_location="B", quantity="1", lots=[{"lot": f"{tag}-{i}-0", "quantity": "1"}]
                ),
            )
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--postings", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    engine, _url = _prepare(args.url)
    _master_data()
    _receipts(20, "warm")  # warm caches and prepared plans
    rates: dict[tuple[str, str], list[float]] = {}
    for r in range(args.rounds):
        order = [True, False] if r % 2 == 0 else [False, True]
        for on in order:
            _set_triggers(engine, on)
            mode = "audit on" if on else "audit off"
            tag = f"r{r}-{'on' if on else 'off'}"
            rates.setdefault(("receipt (3 lots)", mode), []).append(_receipts(args.postings, tag))
            rates.setdefault(("transfer (1 lot)", mode), []).append(_transfers(args.postings, tag))
    _set_triggers(engine, True)
    with engine.connect() as conn:
        entries = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar()
    table = Table(title=f"Posting throughput, {args.postings} postings x {args.rounds} rounds (median postings/s)")
    for col in ("posting", "audit off", "audit on", "on / off"):
        table.add_column(col, justify="right" if col != "posting" else "left")
    for kind in ("receipt (3 lots)", "transfer (1 lot)"):
        off = statistics.median(rates[(kind, "audit off")])
        on = statistics.median(rates[(kind, "audit on")])
        table.add_row(kind, f"{off:.0f}", f"{on:.0f}", f"{on / off:.2f}")
    console.print(table)
    console.print(f"audit entries written: {entries:,}; rounds (on, off) per kind: {rates}")
    engine.dispose()


if __name__ == "__main__":
    main()
