"""The set-based chunk poster: a chunk of mapped EPCIS events written in a few statements per table.

``capture`` hands every chunk here first. ``post_chunk`` either writes the whole chunk set-based —
lots, work orders, sales orders and their lines, movements with lines and lot rows, balances,
executions with lot links and genealogy, shipments with lines, lot links and ``lot_shipments``, the
orders' closing and fill state: one statement per group of tables — or returns ``None`` having
written nothing, and the chunk goes the per-event way (``capture._apply_chunk_at_once``), through
the posting services, which produce each refusal with its exact error.

The bulk path only has to *detect*, conservatively, that a chunk might not post exactly as the
services would post it event by event; it never phrases an error. It takes a chunk only when every
event is one of:
- ObjectEvent ``receiving`` (not ``returned``) or ``commissioning`` with a sourceList → a receipt,
  every quantity naming a new lot (LGTIN) of a lot-tracked item;
- ObjectEvent ``shipping`` → a shipment on a sales order created for it, every quantity naming a lot;
- TransformationEvent → an execution of a work order created for it, inputs naming lots, outputs
  naming new lots;
- an event type with no lotline posting (AggregationEvent, AssociationEvent, extension types) →
  stored, as ``Mapper.apply`` says;
and, for the chunk as a whole (one read per rule, never a query per event):
- no error declaration, no event captured before or twice in the chunk, no lot status to set
  (disposition, ``persistentDisposition``, ``lotline:lotStatus``, bizStep ``holding``), no
  instance-level EPC, no event time in the future;
- every identifier names a record that exists, or one the job creates (``create_master_data``):
  created in the chunk's savepoint, as the services would create it (see ``bulk_plan.Planner``);
- every input schema (``ReceiptIn``, ``SalesOrderIn``, ``ShipmentIn``, ``WorkOrderIn``,
  ``ExecutionIn``) accepts the event's posting unchanged (no stripped code, no out-of-range value);
- no order number, work order number or external reference already taken (in the database or by
  an earlier event of the chunk), no new lot code already taken;
- every lot shipped or consumed exists — in the database, or made by an earlier event of the
  chunk — is active and unexpired at the event's time;
- stock, per (item, location, lot), replayed in document order from the locked balance rows: never
  below zero after any posting, and every posting that takes from a key at or after that key's
  latest ledger time (a back-dated take, or a row whose time is unknown, goes the per-event way,
  which reads the later ledger).
A database error while writing rolls the chunk's savepoint back, and the chunk goes the per-event
way too. So the bulk path accepts a chunk only when the services would accept every event of it,
and then writes what they would write (proved by ``tests/epcis/test_bulk_equivalence.py``: the same
documents captured both ways give equal ledgers, audit trails and capture reports).

Locks: the balance rows it changes (FOR UPDATE, global order), then the lots it takes from (FOR
SHARE, id order), as the posting services take them; the chunk's external references by advisory
lock, as ``inventory.claim_external_ref`` does.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from lotline.db import sql
from lotline.epcis.bulk_plan import (
    Event,
    Key,
    LotKey,
    NewLot,
    NotBulk,
    Planner,
    new_id,
)
from lotline.epcis.mapping import Mapper
from lotline.epcis.reading import Outcome
from lotline.errors import LotlineError
from lotline.sales import service as sales

__all__ = ["NotBulk", "new_id", "plan_ahead", "post_chunk"]

PKG = "lotline.epcis"
# every array parameter is bound as one literal (the SQL casts each): psycopg's element-by-element
# dumping of the chunk's long uuid/text arrays cost more than the statements (bench/RESULTS.md, session 7)
_arrays = sql.with_array_literals


# --- the chunk: reads, checks, writes ---------------------------------------------------------------------


def plan_ahead(chunk: list[dict], keys: list[str], first: int, mapper: Mapper, labels: list[str]) -> list[Event] | None:
    """The chunk's plan made without the database (while the previous chunk's writes run), or None.

    The registry is unbound meanwhile, so planning can use only records the job resolved before:
    anything that would need a query (an identifier not met yet, master data to create) or that
    the bulk path does not take gives None, and the chunk is planned again in its own savepoint
    (``post_chunk``), as without a plan. Planning reads nothing else that changes: the same events
    give the same plan (but for new ids) whenever it is made — an event in the future now is
    planned again later. Valid only if the chunk before it was written (``post_chunk`` did not give
    up, which would make the registry forget records), as ``capture`` uses it.
    """
    planner = Planner(mapper)
    registry = mapper.registry
    session, registry.session = registry.session, None
    try:
        return [planner.plan(first + n, key, event, labels[n]) for n, (event, key) in enumerate(zip(chunk, keys, strict=True))]
    except (NotBulk, LotlineError, ValidationError, ValueError, KeyError, TypeError, AttributeError, RuntimeError):
        return None
    finally:
        registry.session = session


def post_chunk(
    s: Session, chunk: list[dict], keys: list[str], first: int, mapper: Mapper, labels: list[str], *,
    planned: list[Event] | None = None, meanwhile: Callable[[], object] | None = None,
) -> list[tuple[Event, Outcome]] | None:
    """Write the chunk set-based and return each event with its outcome, or None having written nothing.

    ``planned``: the chunk's ``plan_ahead``, used instead of planning it again. ``meanwhile``: called
    while the chunk's writes run on the server (``sql.execute_all``), only if the chunk is written.
    """
    planner = Planner(mapper)
    # master data the planning creates (a job with create_master_data) is written in this savepoint
    # too: the chunk going the per-event way rolls it back and the registry forgets it
    mark = mapper.registry.mark()
    savepoint = s.begin_nested()

    def give_up() -> None:
        savepoint.rollback()
        mapper.registry.forget_since(mark)

    try:
        events = planned if planned is not None else [
            planner.plan(first + n, key, event, labels[n]) for n, (event, key) in enumerate(zip(chunk, keys, strict=True))]
    except (NotBulk, LotlineError, ValidationError, ValueError, KeyError, TypeError, AttributeError, sa.exc.DBAPIError):
        give_up()
        return None
    try:
        if not _check_and_write(s, events, meanwhile):
            give_up()
            return None
        s.flush()
    except sa.exc.DBAPIError:
        give_up()
        return None
    savepoint.commit()
    return [(ev, ev.outcome) for ev in events]


def _check_and_write(s: Session, events: list[Event], meanwhile: Callable[[], object] | None) -> bool:  # noqa: C901 — the chunk's rules in one pass, in the module doc's order
    refs = [r for ev in events for r in ev.refs]
    numbers = [ev.order["number"] for ev in events if ev.order] + [ev.work_order["number"] for ev in events if ev.work_order]
    new_lots = [lot for ev in events for lot in ev.new_lots]
    if len(set(refs)) != len(refs) or len(set(numbers)) != len(numbers):
        return False
    if len({(x.item.id, x.code) for x in new_lots}) != len(new_lots):
        return False
    taken_lots = {row.lot for ev in events for m in ev.movements for ln in m.lines for row in ln.rows if row.quantity < 0}
    made = {(x.item.id, x.code): x for x in new_lots}
    wanted = sorted(k for k in taken_lots if k not in made)
    items = sorted({x.item.id for x in new_lots})
    # the chunk's first reads in one round trip (a pipeline runs them in this order): the references'
    # locks, then what is taken (seen under those locks), lots taken from by code (codes never
    # change), the new lots' items' shelf lives
    reads: dict[str, tuple[str, dict]] = {}
    if refs:
        reads["locks"] = (sql.load_sql(PKG, "bulk_lock_refs"), _arrays({"keys": sorted({f"{k}:{r}" for k, r in refs})}))
    reads["taken"] = (sql.load_sql(PKG, "bulk_taken"), _arrays({
        "refs": [r for _k, r in refs], "orders": [ev.order["number"] for ev in events if ev.order],
        "work_orders": [ev.work_order["number"] for ev in events if ev.work_order],
        "items": [x.item.id for x in new_lots], "codes": [x.code for x in new_lots],
    }))
    if wanted:
        reads["lots"] = (sql.load_sql(PKG, "bulk_find_lots"),
                         _arrays({"items": [k[0] for k in wanted], "codes": [k[1] for k in wanted]}))
    if items:
        reads["shelf"] = (sql.load_sql(PKG, "bulk_shelf_lives"), _arrays({"ids": items}))
    got = _read_all(s, reads)
    if got["taken"][0][0]:
        return False
    existing: dict[LotKey, uuid.UUID] = {(r.item_id, r.lot_code): r.id for r in got.get("lots", [])}
    shelf = {r.id: r.shelf_life_days for r in got.get("shelf", []) if r.shelf_life_days}
    lot_id = {**{k: x.id for k, x in made.items()}, **existing}
    made_by: dict[LotKey, int] = {(x.item.id, x.code): ev.seq for ev in events for x in ev.new_lots}
    for ev in events:
        for m in ev.movements:
            for ln in m.lines:
                for row in ln.rows:
                    if row.lot not in lot_id:
                        return False  # an unknown lot: refused per event
                    if row.lot in made_by and made_by[row.lot] > ev.seq or (made_by.get(row.lot) == ev.seq and row.quantity < 0):
                        return False  # taken before (or by the event) that makes it
                    row.lot_id = lot_id[row.lot]
    old = set(existing.values())
    keys = sorted({(ln.item.id, ln.location.id, row.lot_id) for ev in events for m in ev.movements for ln in m.lines
                   for row in ln.rows if row.lot_id in old})
    # then the rows changed, FOR UPDATE, and the lots taken from, FOR SHARE: one round trip, in that order
    locks: dict[str, tuple[str, dict]] = {}
    if keys:
        locks["balances"] = (sql.load_sql(PKG, "bulk_lock_balances"), _arrays({
            "items": [k[0] for k in keys], "locations": [k[1] for k in keys], "lots": [k[2] for k in keys],
        }))
    if existing:
        locks["lots"] = (sql.load_sql(PKG, "bulk_share_lots"), _arrays({"ids": sorted(existing.values())}))
    locked = _read_all(s, locks)
    rows: dict[Key, tuple[Decimal, datetime | None]] = {
        (r.item_id, r.location_id, r.lot_id): (r.quantity, r.last_occurred_at) for r in locked.get("balances", [])
    }
    states: dict[uuid.UUID, tuple[str, datetime | None]] = {r.id: (r.status, r.expires_at) for r in locked.get("lots", [])}
    for x in new_lots:
        base = x.manufactured_at or x.received_at
        if x.expires_at is None and shelf.get(x.item.id) and base is not None:
            x.expires_at = base + timedelta(days=shelf[x.item.id])
        states[x.id] = ("active", x.expires_at)
    initial = dict(rows)
    if not _stock_holds(events, rows, states):
        return False
    _write(s, events, new_lots, initial, rows, meanwhile)
    return True


def _read_all(s: Session, reads: dict[str, tuple[str, dict]]) -> dict[str, list[Any]]:
    """Each named read's rows, the reads sent in one pipeline (run in order, one round trip)."""
    if not reads:
        return {}
    with sql.pipelined_many(s, list(reads.values()), kind="named") as fetchers:
        return {name: fetch() for name, fetch in zip(reads, fetchers, strict=True)}


def _stock_holds(events: list[Event], rows: dict[Key, tuple[Decimal, datetime | None]],
                 states: dict[uuid.UUID, tuple[str, datetime | None]]) -> bool:
    """Replay the chunk's postings in document order over the locked rows (``rows`` ends as written)."""
    for ev in events:
        for m in ev.movements:
            net: dict[Key, Decimal] = defaultdict(Decimal)
            for ln in m.lines:
                for row in ln.rows:
                    assert row.lot_id is not None
                    if row.quantity < 0:  # shipped or consumed: active, not expired at the time
                        status, expires = states[row.lot_id]
                        if status != "active" or (expires is not None and expires <= m.at):
                            return False
                    net[(ln.item.id, ln.location.id, row.lot_id)] += row.quantity
            for key, delta in net.items():
                have = rows.get(key)
                if delta < 0 and (have is None or have[0] + delta < 0 or have[1] is None or have[1] > m.at):
                    return False  # short, or back-dated / unknown time: the per-event way reads the ledger
                if have is None:
                    rows[key] = (delta, m.at)
                else:
                    rows[key] = (have[0] + delta, None if have[1] is None else max(have[1], m.at))
    return True


def _write(s: Session, events: list[Event], new_lots: list[NewLot], initial: dict, final: dict,
           meanwhile: Callable[[], object] | None = None) -> None:
    """The chunk's rows, one statement per group of tables (FK order), sent in one pipeline."""
    out: list[tuple[str, dict]] = []
    if new_lots:
        out.append((sql.load_sql(PKG, "bulk_insert_lots"), {
            "ids": [x.id for x in new_lots], "items": [x.item.id for x in new_lots], "codes": [x.code for x in new_lots],
            "manufactured": [x.manufactured_at for x in new_lots], "received": [x.received_at for x in new_lots],
            "expires": [x.expires_at for x in new_lots], "vendor_lots": [x.vendor_lot_code for x in new_lots],
        }))
    wos = [ev.work_order for ev in events if ev.work_order]
    if wos:
        out.append((sql.load_sql(PKG, "bulk_insert_work_orders"), {
            "ids": [w["id"] for w in wos], "numbers": [w["number"] for w in wos], "items": [w["item"].id for w in wos],
            "planned": [w["planned"] for w in wos], "uoms": [w["item"].uom for w in wos], "notes": [w["notes"] for w in wos],
        }))
    orders = [ev.order for ev in events if ev.order]
    if orders:
        lines = [(o["id"], *ln) for o in orders for ln in o["lines"]]
        out.append((sql.load_sql(PKG, "bulk_insert_orders"), {
            "ids": [o["id"] for o in orders], "numbers": [o["number"] for o in orders],
            "customers": [o["customer_id"] for o in orders], "ordered": [o["ordered_at"] for o in orders],
            "notes": [o["notes"] for o in orders],
            "line_ids": [x[1] for x in lines], "line_orders": [x[0] for x in lines], "line_nos": [x[2] for x in lines],
            "line_items": [x[3].id for x in lines], "line_uoms": [x[3].uom for x in lines],
            "line_quantities": [x[4].quantity for x in lines], "line_due": [x[4].due_date for x in lines],
        }))
    movements = [m for ev in events for m in ev.movements]
    lines_ = [(m, ln) for m in movements for ln in m.lines]
    lot_rows = [(ln, r) for _m, ln in lines_ for r in ln.rows]
    out.append((sql.load_sql(PKG, "bulk_insert_movements"), {
        "ids": [m.id for m in movements], "types": [m.type for m in movements], "times": [m.at for m in movements],
        "refs": [m.external_ref for m in movements], "vendors": [m.vendor_id for m in movements],
        "customers": [m.customer_id for m in movements], "notes": [m.notes for m in movements],
        "line_ids": [ln.id for _m, ln in lines_], "line_movements": [m.id for m, _ln in lines_],
        "line_nos": [ln.line_no for _m, ln in lines_], "items": [ln.item.id for _m, ln in lines_],
        "locations": [ln.location.id for _m, ln in lines_], "uoms": [ln.item.uom for _m, ln in lines_],
        "quantities": [ln.quantity for _m, ln in lines_],
        "row_ids": [r.id for _ln, r in lot_rows], "row_lines": [r.line_id for _ln, r in lot_rows],
        "lots": [r.lot_id for _ln, r in lot_rows], "row_uoms": [ln.item.uom for ln, _r in lot_rows],
        "row_quantities": [r.quantity for _ln, r in lot_rows],
    }))
    out.append(_balances_statement(initial, final))
    executions = [ev for ev in events if ev.execution]
    if executions:
        out.append(_executions_statement(executions))
    shipments = [ev for ev in events if ev.shipment]
    if shipments:
        out.append(_shipments_statement(shipments))
        # one statement for every order (the audit trigger pairs its rows linearly since 0033)
        closing = [ev.order["id"] for ev in shipments if ev.order]
        if closing:
            out.append((sql.load_sql(PKG, "bulk_close_orders"), {"ids": closing}))
    sql.execute_all(s, [(statement, _arrays(params)) for statement, params in out], meanwhile=meanwhile)
    if orders:
        sales.refresh_line_fills(s, [o["id"] for o in orders])
    for ev in events:
        ev.outcome.lot_ids = list(dict.fromkeys(r.lot_id for m in ev.movements for ln in m.lines for r in ln.rows
                                                if r.lot_id is not None))


def _balances_statement(initial: dict[Key, tuple], final: dict[Key, tuple]) -> tuple[str, dict]:
    """Every changed balance row in one statement: rows that existed by their net change, new ones whole."""
    params: dict[str, list] = {}
    for prefix, subset in (("u_", [k for k in final if k in initial]), ("i_", [k for k in final if k not in initial])):
        subset.sort()
        params |= {
            f"{prefix}items": [k[0] for k in subset],
            f"{prefix}locations": [k[1] for k in subset],
            f"{prefix}lots": [k[2] for k in subset],
            f"{prefix}quantities": [final[k][0] - (initial[k][0] if k in initial else 0) for k in subset],
            f"{prefix}lasts": [final[k][1] for k in subset],
        }
    return sql.load_sql(PKG, "bulk_write_balances"), params


def _executions_statement(executions: list[Event]) -> tuple[str, dict]:
    ex_ids, wos, times, consumes, produces, refs = [], [], [], [], [], []
    links: list[tuple[uuid.UUID, uuid.UUID, str]] = []  # (execution, lot row, role)
    edges: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, Decimal, Decimal, datetime]] = []
    for ev in executions:
        assert ev.execution is not None and ev.work_order is not None
        ex, consume, produce = ev.execution, ev.execution["consume"], ev.execution["produce"]
        ex_ids.append(ex["id"])
        wos.append(ev.work_order["id"])
        times.append(ev.at)
        consumes.append(consume.id if consume else None)
        produces.append(produce.id)
        refs.append(ex["ref"])
        consume_rows = [r for ln in consume.lines for r in ln.rows] if consume else []
        produce_rows = [r for ln in produce.lines for r in ln.rows]
        links += [(ex["id"], r.id, "consume") for r in consume_rows] + [(ex["id"], r.id, "produce") for r in produce_rows]
        used: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
        made: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
        for r in consume_rows:
            assert r.lot_id is not None
            used[r.lot_id] += -r.quantity
        for r in produce_rows:
            assert r.lot_id is not None
            made[r.lot_id] += r.quantity
        edges += [(ex["id"], p, c, used[p], made[c], ev.at) for p in used for c in made]
    return sql.load_sql(PKG, "bulk_insert_executions"), {
        "ids": ex_ids, "work_orders": wos, "times": times, "consumes": consumes, "produces": produces, "refs": refs,
        "link_ids": [new_id() for _ in links], "link_executions": [x[0] for x in links],
        "link_rows": [x[1] for x in links], "link_roles": [x[2] for x in links],
        "edge_executions": [e[0] for e in edges], "parents": [e[1] for e in edges], "children": [e[2] for e in edges],
        "consumed": [e[3] for e in edges], "produced": [e[4] for e in edges], "edge_times": [e[5] for e in edges],
    }


def _shipments_statement(shipments: list[Event]) -> tuple[str, dict]:
    heads, lines, links, per_lot = [], [], [], []
    for ev in shipments:
        assert ev.shipment is not None and ev.order is not None
        sh, order, m = ev.shipment, ev.order, ev.movements[0]
        heads.append((sh["id"], order["id"], sh["customer_id"], ev.at, m.id, sh["ref"], order["number"]))
        for ln, order_line, qty in zip(m.lines, sh["order_lines"], sh["quantities"], strict=True):
            lines.append((new_id(), sh["id"], order_line, ln.id, qty))
        links += [(new_id(), sh["id"], r.id) for ln in m.lines for r in ln.rows]
        shipped: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
        for ln in m.lines:
            for r in ln.rows:
                assert r.lot_id is not None
                shipped[r.lot_id] -= r.quantity
        per_lot += [(lot, sh["id"], q) for lot, q in shipped.items()]
    return sql.load_sql(PKG, "bulk_insert_shipments"), {
        "ids": [h[0] for h in heads], "orders": [h[1] for h in heads], "customers": [h[2] for h in heads],
        "times": [h[3] for h in heads], "movements": [h[4] for h in heads], "refs": [h[5] for h in heads],
        "numbers": [h[6] for h in heads],
        "line_ids": [x[0] for x in lines], "line_shipments": [x[1] for x in lines], "order_lines": [x[2] for x in lines],
        "movement_lines": [x[3] for x in lines], "line_quantities": [x[4] for x in lines],
        "link_ids": [x[0] for x in links], "link_shipments": [x[1] for x in links], "link_rows": [x[2] for x in links],
        "lot_ids": [x[0] for x in per_lot], "lot_shipments": [x[1] for x in per_lot],
        "lot_quantities": [x[2] for x in per_lot],
    }
