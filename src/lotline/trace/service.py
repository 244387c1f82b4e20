"""The trace engine: where a lot came from (backward), where it went (forward), as of a time.

``trace(session, start_lot_ids, direction, as_of, max_depth)`` answers in six statements whatever
the size of the genealogy (five with ``with_stock=False``) — never one per lot or per hop:

1. the start lots (NotFound for unknown ids);
2. transaction-local planner settings (``TRACE_SETTINGS``: no JIT, no parallel or merge joins,
   more work_mem — a trace is a chain of index probes from a known set of lots; ``TRACE_PLANS``:
   generic plans, kept by the connection's prepared statements), put back by the last statement
   (``lotline.db.LocalSettings``);
3. the forward and backward closures in one statement (sql/closure.sql): recursive CTEs over the
   derived ``lot_genealogy_edges`` table whose UNION key is the lot id alone, so each lot is
   expanded once however many paths or cycles reach it. It returns the reached lots with their
   item details, numbered 0..n-1 in (sku, lot_code) order, then the closure's edges (their ends
   named by the lot ids' text, mapped to those numbers here), already in the trace's edge order.
   With ``max_depth`` a bounded variant keeps the depth in the recursion so it stops at the limit;
4. shipments of the targets and of downstream lots (never the other uses of an upstream
   component), with order and customer, in the trace's order (sql/shipments.sql);
5. (with stock) the ledger of every reached lot as of the time, read once: the mass balance split
   by movement type, receipts and returns, and (as of now) the balance-table on-hand
   (sql/stock.sql, assembled by ``trace.stock``).
   4 and 5 are sent together in pipeline mode as soon as the closure's lots are known, before the
   graph work: one round trip for both, and the server runs them while this process builds the
   lots and edges. (Sending the shipments together with the closure, the statement walking the
   closure itself, was measured: the second walk and lot lookup on the server cost more than the
   overlap saved — typical lots 25 % slower at p95.)
6. the settings put back, sent with 4 and 5.
1-3 are sent together too (pipeline mode: the server runs them in order), so a trace is two round
trips.

The rooms: ``model`` (result types, JSON), ``validate`` (input checks), ``graph`` (depths, order,
cycles on lot numbers — pure), ``stock`` (receipts, on-hand, mass balance — pure) and this module, which runs the
statements through the one SQL runner (``lotline.db.sql``, bare tuples on the session's psycopg
connection: tens of thousands of rows, and psycopg's C row loading costs several times less per
row than SQLAlchemy Rows) and assembles the result. Rows are unpacked by the column names
declared below; a test holds every statement's output to them. The cyclic garbage collector is paused while the
result is built (``lotline.perf.no_gc_pauses``).

Semantics:
- an edge is one execution's consumed lot -> produced lot; transfers keep a lot's identity so they
  add no edge, they only move its on-hand between locations;
- as of a time: only edges, shipments and movements with a time <= as_of count, so a trace taken
  for an audit can be reproduced later; ``as_of=None`` means now, and on-hand then comes from the
  balance table maintained at posting time, so a drift between ledger and balances shows as an
  imbalance;
- reachability is conservative (any path in the graph counts, whatever the order of the
  executions along it), which is what a recall needs;
- roles: start lots are ``target`` (depth 0) and appear only as targets; other lots are
  ``upstream_component`` (backward) and/or ``downstream_finished`` (forward) — a lot on a cycle
  through the targets' genealogy can be both, once per role. Cycles (strongly connected parts of
  the traced graph) are reported in ``cycles``.

Runs inside the caller's session; entry points open it with ``db.read_snapshot()`` so every
statement sees one snapshot. Raises NotFound (unknown lot id) and InvalidInput (bad direction,
as_of in the future, negative or absurd max_depth).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lotline.db import LocalSettings, sql
from lotline.errors import NotFound
from lotline.lots import service as lots_service
from lotline.perf import no_gc_pauses
from lotline.trace import graph
from lotline.trace.model import (
    ROLES,
    LotOnHand,
    MassBalance,
    TraceCycle,
    TracedLot,
    TracedReceipt,
    TracedShipment,
    TraceEdge,
    TraceResult,
    checked,
    format_quantity,
)
from lotline.trace.stock import LotInfo, build_stock
from lotline.trace.validate import (
    DIRECTIONS,
    MAX_DEPTH_LIMIT,
    Direction,
    parse_as_of,
    validate_as_of,
    validate_direction,
    validate_lot_ids,
    validate_max_depth,
)
from lotline.types import utcnow

# The names callers use as ``trace.service.X`` (the engine's façade over its rooms).
__all__ = [
    "CLOSURE_COLUMNS",
    "DIRECTIONS",
    "LOTS_COLUMNS",
    "SHIPMENTS_COLUMNS",
    "MAX_DEPTH_LIMIT",
    "ROLES",
    "TRACE_PLANS",
    "TRACE_SETTINGS",
    "Direction",
    "LotOnHand",
    "MassBalance",
    "TraceCycle",
    "TraceEdge",
    "TraceResult",
    "TracedLot",
    "TracedReceipt",
    "TracedShipment",
    "format_quantity",
    "parse_as_of",
    "resolve_lot",
    "trace",
    "validate_as_of",
    "validate_direction",
    "validate_max_depth",
]

# Planner settings for the statements of a trace (transaction-local, put back after). A trace is a
# chain of index probes from a known set of lots. On large data the planner overestimates rows per
# lot (a few raw lots have thousands of rows) and picks parallel merge / hash joins over whole
# tables, plus JIT compilation — measured at 1.1 s against 0.1 s for the nested-loop plan on the
# most-used raw lot. work_mem is raised so grouping tens of thousands of shipment / ledger rows
# stays in memory instead of spilling a sort to disk.
TRACE_SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": "0", "enable_mergejoin": "off", "work_mem": "64MB"}
# The trace's statements have one plan shape whatever their parameters: every lookup is an index
# probe the planner cannot turn into a scan (LATERAL ... OFFSET 0, = ANY(ARRAY(...))), whatever it
# guesses of the sizes. So they run with generic plans: prepared once per pooled connection
# (psycopg, after 5 runs) they are never planned again — planning was 60-70 % of a typical lot's
# statement time. Plans compared lot by lot: bench/RESULTS.md, "Session 7 — generic plans".
TRACE_PLANS = {"plan_cache_mode": "force_generic_plan"}

# Output columns of the statements, in order (tests/trace/test_statements.py holds the .sql files to them).
LOTS_COLUMNS = (
    "lot_id", "lot_code", "item_id", "sku", "item_name", "uom", "status", "vendor_lot_code",
    "expires_at", "manufactured_at", "received_at",
)  # fmt: skip
CLOSURE_COLUMNS = (
    "kind", "id", "item_id", "lot_code", "sku", "item_name", "uom", "status", "vendor_lot_code",
    "expires_at", "downstream", "lot_key", "parent_key", "child_key", "consumed_quantity",
    "produced_quantity", "occurred_at",
)  # fmt: skip
SHIPMENTS_COLUMNS = (
    "sales_order_shipment_id", "sales_order_id", "sales_order_number", "customer_id",
    "customer_code", "customer_name", "shipped_at", "lot_no", "quantity",
)  # fmt: skip


_PKG = "lotline.trace"


def resolve_lot(session: Session, ref: str | uuid.UUID, *, item: str | None = None):
    """A lot by id, or by code (+ item SKU or id when several items use the code).

    Raises NotFound (unknown lot or item) and InvalidInput (code used by several items, no SKU).
    """
    return lots_service.find_lot(session, ref, item_ref=item)


def trace(
    session: Session,
    start_lot_ids: Sequence[uuid.UUID],
    direction: str = "both",  # a Direction; any other string is refused (callers pass user input)
    as_of: datetime | None = None,
    max_depth: int | None = None,
    *,
    with_stock: bool = True,
) -> TraceResult:
    """Trace lots forward (where used), backward (where from) or both, as of a time.

    ``with_stock=False`` skips receipts, on-hand and mass balance (lots, edges and shipments only).
    Raises NotFound for unknown lot ids, InvalidInput for a bad direction, as_of or max_depth.
    """
    validate_direction(direction)
    start = validate_lot_ids(start_lot_ids)
    as_of = validate_as_of(as_of)
    max_depth = validate_max_depth(max_depth)
    when = as_of if as_of is not None else utcnow()
    # The statements below go through the runner (the raw driver cursor), which does not autoflush: make the
    # caller's pending changes (a status just set, a posting just made) visible to the trace.
    session.flush()

    as_of_requested = as_of is not None
    params: dict[str, Any] = {
        "forward_start": list(start) if direction in ("forward", "both") else [],
        "backward_start": list(start) if direction in ("backward", "both") else [],
        "as_of": when,
        # each lot's status as it was then (audit trail) only when a time was asked for
        "status_as_of": when if as_of_requested else None,
    }
    if max_depth is not None:
        params["max_depth"] = max_depth
    settings = LocalSettings({**TRACE_SETTINGS, **TRACE_PLANS})
    with no_gc_pauses():
        # Statements 1-3 in one round trip (pipeline mode; the server runs them in order): the start
        # lots, the settings (their previous values come back) and the closure. The closure of an
        # unknown lot is only smaller, and is dropped when a start lot is missing.
        first = [(sql.load_sql(_PKG, "lots"), {"lot_ids": list(start)}), settings.set_statement(),
                 (sql.load_sql(_PKG, "closure" if max_depth is None else "closure_bounded"), params)]  # fmt: skip
        with sql.pipelined_many(session, first, kind="tuple") as (lot_rows, set_rows, closure_rows):
            found = {row[0] for row in lot_rows()}
            restore = settings.restore_statement(set_rows())
            rows = closure_rows()
        with LocalSettings.restored_on_error(session, restore):
            missing = [x for x in start if x not in found]
            if missing:
                raise NotFound(
                    f"unknown lot {', '.join(str(x) for x in missing)}", kind="lot", ref=", ".join(map(str, missing))
                )
            result = _walk(session, _Closure(rows, start), start, direction, as_of, when, max_depth, with_stock,
                           restore)  # fmt: skip
    # + the start lots, and the settings' set and restore statements
    return dataclasses.replace(result, statements=result.statements + 3)


class _Closure:
    """The closure statement's rows unpacked: the reached lots' columns, numbered 0..n-1 in (sku,
    lot_code) order, the edge rows after them, and the lots whose shipments the trace lists."""

    def __init__(self, rows: list[tuple], start: tuple[uuid.UUID, ...]) -> None:
        # the lots (kind 0) come first, in number order, then the edges
        n = 0
        for row in rows:
            if row[0]:
                break
            n += 1
        self.n, self.edge_rows = n, rows[n:]
        # the start lots are always reached (both walks begin with them), so n > 0
        (_, self.lot_id, self.item_id, self.lot_code, self.sku, self.item_name, self.uom, self.status,
         self.vendor_lot_code, self.expires_at, self.downstream, self.lot_key, *_) = zip(*rows[:n], strict=True)  # fmt: skip
        # keyed by the ids' text (str hashing is C and cached; UUID.__hash__ is Python): the edge
        # rows name their ends by that text, and the edges reuse the lots' UUID objects
        self.number = dict(zip(self.lot_key, range(n), strict=True))
        self.start_no = sorted(self.number[str(x)] for x in start)
        self.is_target = [False] * n
        for i in self.start_no:
            self.is_target[i] = True
        # targets and downstream lots in (sku, lot id) order: a shipment row's lot_no is a 1-based
        # position in this list
        shipped = [i for i in range(n) if self.is_target[i] or self.downstream[i]]
        shipped.sort(key=lambda i: (self.sku[i], self.lot_id[i].int))
        self.shipped = shipped


def _assemble(closure: _Closure, shipment_rows, start, direction, max_depth) -> tuple[list, list, list, list]:
    """Lots (with roles and depths), edges, shipments and cycles from the closure and the
    shipments statement's rows (fetched last: the server may still be running it)."""
    n, number, start_no, is_target = closure.n, closure.number, closure.start_no, closure.is_target
    lot_id, item_id, lot_code, sku, item_name, uom, status, vendor_lot_code, expires_at = (
        closure.lot_id, closure.item_id, closure.lot_code, closure.sku, closure.item_name, closure.uom,
        closure.status, closure.vendor_lot_code, closure.expires_at,
    )  # fmt: skip
    children: list[list[int]] = [[] for _ in range(n)]
    parents: list[list[int]] = [[] for _ in range(n)]
    successors: list[list[int]] = [[] for _ in range(n)]
    edges: list[TraceEdge] = []
    new = tuple.__new__  # the row types' constructor in C (their _make is a Python function); see model.checked
    previous = None
    for kind, execution_id, *_, parent, child, consumed, produced, occurred_at in closure.edge_rows:
        p, c = number[parent], number[child]
        if kind == 1:
            children[p].append(c)
        else:
            parents[c].append(p)
        # an edge both walks return (a cycle through the targets) comes twice in a row: once
        key = (p, c, execution_id)
        if key == previous:
            continue
        previous = key
        successors[p].append(c)
        edges.append(new(TraceEdge, (lot_id[p], lot_id[c], execution_id, consumed, produced, occurred_at)))

    down = graph.min_depths(start_no, children, max_depth) if direction != "backward" else [-1] * n
    up = graph.min_depths(start_no, parents, max_depth) if direction != "forward" else [-1] * n
    lots = [
        new(TracedLot, (lot_id[i], lot_code[i], item_id[i], sku[i], item_name[i], uom[i], status[i], role, depth,
                        vendor_lot_code[i], expires_at[i]))  # fmt: skip
        for i, role, depth in graph.lot_order(start_no, up, down, is_target)
    ]
    cycles = []
    for component in graph.cycles(successors):
        members = sorted(component, key=lambda i: str(lot_id[i]))
        cycles.append(TraceCycle(tuple(lot_id[i] for i in members), tuple(lot_code[i] for i in members)))
    cycles.sort(key=lambda c: str(c.lot_ids[0]))

    # lot_no is the 1-based position in closure.shipped
    by_position = [None, *((lot_id[i], item_id[i], sku[i], uom[i]) for i in closure.shipped)]
    shipments: list[TracedShipment] = []
    append = shipments.append
    head: tuple = ()
    for sid, oid, order_number, cid, ccode, cname, shipped_at, lot_no, quantity in shipment_rows():
        if sid is not None:  # the first row of a shipment's run; the others repeat it
            head = (sid, oid, order_number, cid, ccode, cname, shipped_at)
        s_lot_id, s_item_id, s_sku, s_uom = by_position[lot_no]
        append(new(TracedShipment, (*head, s_lot_id, s_item_id, s_sku, quantity, s_uom)))
    return checked(TracedLot, lots), checked(TraceEdge, edges), checked(TracedShipment, shipments), cycles


def _walk(session, closure, start, direction, as_of, when, max_depth, with_stock, restore) -> TraceResult:
    """Statements 4..6 of a trace: shipments, stock and the settings put back (see module doc)."""
    as_of_requested = as_of is not None
    # Shipments of the targets and of downstream lots, listed in (sku, lot_id) order (the
    # statement's lot position orders rows like the trace does). The statement is sent now and
    # runs while the graph work is done.
    key = closure.lot_key  # the ids' text: sent as one uuid[] literal, no UUID encoded per id
    ship_params = {"lot_ids": "{" + ",".join([key[i] for i in closure.shipped]) + "}", "as_of": when}
    statements: list[tuple[str, dict[str, Any]]] = [(sql.load_sql(_PKG, "shipments"), ship_params)]
    if with_stock:
        # the ledger of every reached lot, in number order (its lot_no is number + 1)
        stock_params = {"lot_ids": "{" + ",".join(key) + "}", "as_of": when, "with_balances": not as_of_requested}
        statements.append((sql.load_sql(_PKG, "stock"), stock_params))
    # the settings are put back by the last statement of the same round trip
    with sql.pipelined_many(session, [*statements, restore], kind="tuple") as fetches:
        lots, edges, shipments, cycles = _assemble(closure, fetches[0], start, direction, max_depth)
        receipts: list[TracedReceipt] = []
        on_hand: list[LotOnHand] = []
        balances: list[MassBalance] = []
        if with_stock:
            infos = [
                LotInfo(*fields)
                for fields in zip(closure.lot_id, closure.lot_code, closure.sku, closure.status, closure.uom,
                                  closure.vendor_lot_code, strict=True)  # fmt: skip
            ]
            receipts, on_hand, balances = build_stock(fetches[1](), infos, as_of_requested=as_of_requested)

    return TraceResult(
        start_lot_ids=start,
        direction=direction,
        as_of=when,
        max_depth=max_depth,
        lots=lots,
        edges=edges,
        shipments=shipments,
        receipts=receipts,
        on_hand=on_hand,
        mass_balance=balances,
        cycles=cycles,
        as_of_requested=as_of_requested,
        statements=1 + len(statements),
    )
