"""Lot genealogy traces: where a lot came from (backward), where it went (forward), as of a time.

``trace(session, start_lot_ids, direction, as_of, max_depth)`` answers in at most six statements
whatever the size of the genealogy — never one per lot or per hop:

1. the start lots (NotFound for unknown ids);
2. transaction-local planner settings (``TRACE_SETTINGS``: no JIT, no parallel or merge joins,
   more work_mem — a trace is a chain of index probes from a known set of lots), put back by the
   last statement (``lotline.db.local_settings``);
3. the forward and backward closures in one statement (sql/closure.sql): recursive CTEs over the
   derived ``lot_genealogy_edges`` table whose UNION key is the lot id alone, so each lot is
   expanded once however many paths or cycles reach it. It returns the reached lots with their
   item details, numbered 0..n-1 in (sku, lot_code) order, then the closure's edges as pairs of
   those numbers, already in the trace's edge order. With ``max_depth`` a bounded variant keeps
   the depth in the recursion so it stops at the limit;
4. shipments of the targets and of downstream lots (never the other uses of an upstream
   component), with order and customer, in the trace's order (sql/shipments.sql). It is sent in
   pipeline mode before the graph work below, so the server runs it meanwhile;
5. the ledger of every reached lot as of the time, read once: the mass balance split by movement
   type, receipts and returns, and (as of now) the balance-table on-hand (sql/stock.sql).

The graph work is done in Python on the lot numbers (plain lists, no UUID hashing): minimum depths
by breadth-first passes, cycles by a Kahn pass that proves most genealogies acyclic in linear time,
then Tarjan's algorithm on what is left. Ordering is done by the statements (byte order for text,
as Python compares str), not by sorting tens of thousands of objects here.

Rows are fetched with the session's own psycopg cursor (same connection, transaction and snapshot)
as tuples: a big trace returns tens of thousands of rows and SQLAlchemy Row wrapping cost more
than the queries. The cyclic garbage collector is paused while the result is built
(``lotline.perf.no_gc_pauses``).
Measured on lotline_bench's most-used raw lot (4,620 lots, 9,006 edges, 24,076 shipments), a full
forward trace without stock went from ~420 ms to ~210 ms (bench/bench_trace.py).

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
  the traced graph) are reported in ``cycles``;
- mass balance per lot: in = received + produced + returned + positive adjustments; out = consumed
  + shipped + scrapped + negative adjustments; transfers net to zero across locations; imbalance =
  in - out - on hand, shown, never hidden.

Runs inside the caller's session; entry points open it with ``db.read_snapshot()`` so every
statement sees one snapshot. Raises NotFound (unknown lot id) and InvalidInput (bad direction,
as_of in the future, negative or absurd max_depth).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row, tuple_row
from sqlalchemy.orm import Session

from lotline.db import load_sql, local_settings
from lotline.errors import InvalidInput, NotFound
from lotline.perf import no_gc_pauses
from lotline.types import utcnow

Direction = Literal["forward", "backward", "both"]
DIRECTIONS = ("forward", "backward", "both")
ROLES = ("target", "upstream_component", "downstream_finished")
MAX_DEPTH_LIMIT = 10_000
# as_of may be a little ahead of this host's clock (another host's clock, request latency).
FUTURE_TOLERANCE = timedelta(minutes=5)

_PKG = "lotline.trace"

# Planner settings for the statements of a trace (transaction-local, put back after). A trace is a
# chain of index probes from a known set of lots. On large data the planner overestimates rows per
# lot (a few raw lots have thousands of rows) and picks parallel merge / hash joins over whole
# tables, plus JIT compilation — measured at 1.1 s against 0.1 s for the nested-loop plan on the
# most-used raw lot. work_mem is raised so grouping tens of thousands of shipment / ledger rows
# stays in memory instead of spilling a sort to disk.
TRACE_SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": "0", "enable_mergejoin": "off", "work_mem": "64MB"}

_LotDetails = namedtuple(
    "_LotDetails",
    "lot_id item_id lot_code sku item_name uom status vendor_lot_code expires_at",
)


# --- result types ------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_quantity(value)
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _json(getattr(value, f.name)) for f in fields(value)}
    return value


def format_quantity(value: Decimal) -> str:
    """'12.500000' -> '12.5', '40.000000' -> '40' (no exponent notation)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class TracedLot:
    lot_id: uuid.UUID
    lot_code: str
    item_id: uuid.UUID
    sku: str
    item_name: str
    uom: str
    status: str
    role: str  # target | upstream_component | downstream_finished
    depth: int  # 0 for targets, minimum number of hops otherwise
    vendor_lot_code: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class TraceEdge:
    parent_lot_id: uuid.UUID
    child_lot_id: uuid.UUID
    work_order_execution_id: uuid.UUID
    consumed_quantity: Decimal
    produced_quantity: Decimal
    occurred_at: datetime


@dataclass(frozen=True)
class TracedShipment:
    sales_order_shipment_id: uuid.UUID
    sales_order_id: uuid.UUID
    sales_order_number: str
    customer_id: uuid.UUID
    customer_code: str
    customer_name: str
    shipped_at: datetime
    lot_id: uuid.UUID
    item_id: uuid.UUID
    sku: str
    quantity: Decimal  # positive
    uom: str


@dataclass(frozen=True)
class TracedReceipt:
    """Stock entering a traced lot from outside: a vendor receipt or a customer return."""

    movement_id: uuid.UUID
    movement_type: str  # receipt | return
    occurred_at: datetime
    lot_id: uuid.UUID
    vendor_lot_code: str | None
    location_id: uuid.UUID
    location_code: str
    quantity: Decimal  # signed sum of the lot rows (a reversed receipt shows negative)
    vendor_id: uuid.UUID | None
    vendor_code: str | None
    vendor_name: str | None
    customer_id: uuid.UUID | None
    customer_code: str | None
    customer_name: str | None
    external_ref: str | None


@dataclass(frozen=True)
class LotOnHand:
    lot_id: uuid.UUID
    lot_code: str
    sku: str
    status: str
    location_id: uuid.UUID
    location_code: str
    location_kind: str
    quantity: Decimal
    uom: str


@dataclass(frozen=True)
class MassBalance:
    lot_id: uuid.UUID
    lot_code: str
    sku: str
    uom: str
    received: Decimal
    produced: Decimal
    returned: Decimal
    adjusted_in: Decimal
    consumed: Decimal
    shipped: Decimal
    scrapped: Decimal
    adjusted_out: Decimal
    transfer_net: Decimal  # transfers in - out across all locations: 0 when the ledger is sound
    on_hand: Decimal
    total_in: Decimal
    total_out: Decimal
    imbalance: Decimal  # total_in - total_out - on_hand

    @property
    def balanced(self) -> bool:
        return self.imbalance == 0


@dataclass(frozen=True)
class TraceCycle:
    """Lots that are their own ancestors in the traced genealogy (one strongly connected part)."""

    lot_ids: tuple[uuid.UUID, ...]
    lot_codes: tuple[str, ...]


@dataclass(frozen=True)
class TraceResult:
    start_lot_ids: tuple[uuid.UUID, ...]
    direction: str
    as_of: datetime
    max_depth: int | None
    lots: list[TracedLot]
    edges: list[TraceEdge]
    shipments: list[TracedShipment]
    receipts: list[TracedReceipt]
    on_hand: list[LotOnHand]
    mass_balance: list[MassBalance]
    cycles: list[TraceCycle]
    as_of_requested: bool = False  # False: as_of is the time the trace was taken ("now")
    statements: int = field(default=0, compare=False)

    def lots_by_role(self, role: str) -> list[TracedLot]:
        return [x for x in self.lots if x.role == role]

    @property
    def customers(self) -> list[uuid.UUID]:
        return sorted({s.customer_id for s in self.shipments}, key=str)

    def to_json(self) -> dict:
        """A JSON-safe document: str UUIDs, ISO datetimes, str decimals."""
        doc = {
            "start_lot_ids": _json(list(self.start_lot_ids)),
            "direction": self.direction,
            "as_of": _json(self.as_of),
            "as_of_requested": self.as_of_requested,
            "max_depth": self.max_depth,
            "summary": {
                "lots": len(self.lots),
                "targets": len(self.lots_by_role("target")),
                "upstream_components": len(self.lots_by_role("upstream_component")),
                "downstream_finished": len(self.lots_by_role("downstream_finished")),
                "edges": len(self.edges),
                "shipments": len(self.shipments),
                "customers": len(self.customers),
                "cycles": len(self.cycles),
                "imbalanced_lots": sum(1 for m in self.mass_balance if not m.balanced),
            },
            "lots": _json(self.lots),
            "edges": _json(self.edges),
            "shipments": _json(self.shipments),
            "receipts": _json(self.receipts),
            "on_hand": _json(self.on_hand),
            "mass_balance": [dict(_json(m), balanced=m.balanced) for m in self.mass_balance],
            "cycles": _json(self.cycles),
        }
        return doc


# --- validation --------------------------------------------------------------------------------


def validate_as_of(as_of: datetime | None, *, now: datetime | None = None) -> datetime | None:
    """None stays None; naive means UTC; a time in the future is refused (InvalidInput)."""
    if as_of is None:
        return None
    if not isinstance(as_of, datetime):
        raise InvalidInput(f"as_of must be a timestamp, got {as_of!r}")
    if as_of.tzinfo is None:
        from datetime import UTC

        as_of = as_of.replace(tzinfo=UTC)
    now = now or utcnow()
    if as_of > now + FUTURE_TOLERANCE:
        raise InvalidInput(
            f"as_of {as_of.isoformat()} is in the future (now is {now.isoformat(timespec='seconds')}); "
            "a trace can only be taken as of a past time"
        )
    return as_of


def parse_as_of(text: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp typed by a user (date alone = start of that day, UTC)."""
    if text is None or text.strip() == "":
        return None
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise InvalidInput(
            f"as_of {text!r} is not an ISO 8601 timestamp (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)"
        ) from None
    return validate_as_of(value)


def validate_max_depth(max_depth: int | None) -> int | None:
    if max_depth is None:
        return None
    if isinstance(max_depth, bool) or not isinstance(max_depth, int):
        raise InvalidInput(f"max_depth must be a whole number, got {max_depth!r}")
    if max_depth < 0:
        raise InvalidInput(f"max_depth must be 0 or more, got {max_depth}")
    if max_depth > MAX_DEPTH_LIMIT:
        raise InvalidInput(
            f"max_depth must be at most {MAX_DEPTH_LIMIT}, got {max_depth}; omit it for no limit"
        )
    return max_depth


def _validate_lot_ids(start_lot_ids: Sequence[uuid.UUID] | uuid.UUID) -> tuple[uuid.UUID, ...]:
    if isinstance(start_lot_ids, (uuid.UUID, str)):
        start_lot_ids = [start_lot_ids]
    out: list[uuid.UUID] = []
    for x in start_lot_ids:
        if isinstance(x, uuid.UUID):
            out.append(x)
            continue
        try:
            out.append(uuid.UUID(str(x)))
        except ValueError:
            raise InvalidInput(f"lot id {x!r} is not a UUID") from None
    if not out:
        raise InvalidInput("a trace needs at least one start lot")
    return tuple(dict.fromkeys(out))


def resolve_lot(session: Session, ref: str | uuid.UUID, *, item: str | None = None):
    """A lot by id, or by code (+ item SKU or id when several items use the code).

    Raises NotFound (unknown lot or item) and InvalidInput (code used by several items, no SKU).
    """
    from lotline.lots import service as lots_service

    return lots_service.find_lot(session, ref, item_ref=item)


# --- the engine --------------------------------------------------------------------------------


def _rows(session: Session, name: str, params: dict, *, plain: bool = False) -> list:
    """Rows of sql/<name>.sql as named tuples, straight from the psycopg cursor.

    Traces fetch tens of thousands of rows; psycopg's C row loading plus a named tuple is several
    times cheaper per row than wrapping each one in an SQLAlchemy Row (``plain``: bare tuples, for
    the statements that return the most rows). Same connection and transaction as the session,
    so the snapshot is shared.
    """
    text = load_sql(_PKG, name)
    dbapi = session.connection().connection.driver_connection
    try:
        with dbapi.cursor(row_factory=tuple_row if plain else namedtuple_row) as cur:
            cur.execute(text, params)
            return cur.fetchall()
    except psycopg.Error as exc:
        # the same exception type SQLAlchemy raises, so db.errors translates it at the boundary
        raise sa.exc.DBAPIError.instance(text, params, exc, psycopg.Error) from exc


@contextmanager
def _pipelined(session: Session, name: str, params: dict) -> Iterator[Callable[[], list]]:
    """Send sql/<name>.sql now, fetch its rows (bare tuples) later: ``with ... as rows: ...; rows()``.

    The statement runs in psycopg's pipeline mode, so the server executes it while this process
    goes on with its own work on earlier rows (two cores instead of one taking turns). Same
    connection, transaction and snapshot as the session; the pipeline is closed on exit.
    """
    text = load_sql(_PKG, name)
    dbapi = session.connection().connection.driver_connection
    try:
        with dbapi.pipeline(), dbapi.cursor(row_factory=tuple_row) as cur:
            cur.execute(text, params)
            yield cur.fetchall
    except psycopg.Error as exc:
        # the same exception type SQLAlchemy raises, so db.errors translates it at the boundary
        raise sa.exc.DBAPIError.instance(text, params, exc, psycopg.Error) from exc


def _closure_rows(
    session: Session, direction: str, start: Sequence[uuid.UUID], as_of: datetime, max_depth: int | None
) -> tuple[list, list]:
    """(the reached lots, the edge rows) of the forward and backward closures, in one statement.

    Lots are numbered 0..n-1 in (sku, lot_code) order and given as (lot_id, item_id, lot_code,
    sku, item_name, uom, status, vendor_lot_code, expires_at, downstream); edge rows as closure.sql
    returns them (kind 1 forward, 2 backward), in the trace's edge order.
    """
    params: dict[str, Any] = {
        "forward_start": list(start) if direction in ("forward", "both") else [],
        "backward_start": list(start) if direction in ("backward", "both") else [],
        "as_of": as_of,
    }
    name = "closure"
    if max_depth is not None:
        name = "closure_bounded"
        params["max_depth"] = max_depth
    rows = _rows(session, name, params, plain=True)
    # the lots (kind 0) come first, in number order, then the edges
    n = 0
    for row in rows:
        if row[0]:
            break
        n += 1
    lots = [(r[3], *r[4:12], r[15]) for r in rows[:n]]
    return lots, rows[n:]


def _closure_graph(lots: list, edge_rows: list):
    """(edges once each, their (parent, child) numbers, children, parents) from the edge rows."""
    n = len(lots)
    lot_ids = [x[0] for x in lots]
    children: list[list[int]] = [[] for _ in range(n)]
    parents: list[list[int]] = [[] for _ in range(n)]
    edges: list[TraceEdge] = []
    ends: list[tuple[int, int]] = []
    previous = None
    new, set_dict = object.__new__, object.__setattr__  # see the shipments in _walk
    for kind, p, c, execution_id, *_, consumed, produced, occurred_at, _downstream in edge_rows:
        if kind == 1:
            children[p].append(c)
        else:
            parents[c].append(p)
        # an edge both walks return (a cycle through the targets) comes twice in a row: keep it once
        key = (p, c, execution_id)
        if key == previous:
            continue
        previous = key
        edge = new(TraceEdge)
        set_dict(
            edge,
            "__dict__",
            {
                "parent_lot_id": lot_ids[p],
                "child_lot_id": lot_ids[c],
                "work_order_execution_id": execution_id,
                "consumed_quantity": consumed,
                "produced_quantity": produced,
                "occurred_at": occurred_at,
            },
        )
        edges.append(edge)
        ends.append((p, c))
    return edges, ends, children, parents


def _int_bfs(start: Iterable[int], adjacency: list[list[int]], max_depth: int | None) -> list[int]:
    """Minimum hop count from any start node per node number (-1: not reached)."""
    depth = [-1] * len(adjacency)
    frontier = []
    for s in start:
        if depth[s] < 0:
            depth[s] = 0
            frontier.append(s)
    d = 0
    while frontier and (max_depth is None or d < max_depth):
        d += 1
        nxt = []
        for node in frontier:
            for child in adjacency[node]:
                if depth[child] < 0:
                    depth[child] = d
                    nxt.append(child)
        frontier = nxt
    return depth


def _int_cycles(successors: list[list[int]]) -> list[list[int]]:
    """Strongly connected parts with a cycle (size > 1 or a self-loop) of a graph on 0..n-1.

    A Kahn pass first peels off every node no cycle leads to; on a genealogy without cycles (the
    usual case) that is all of them and the answer is known in one linear pass. Tarjan's
    algorithm (iterative) then runs on what is left only.
    """
    n = len(successors)
    indegree = [0] * n
    for targets in successors:
        for v in targets:
            indegree[v] += 1
    ready = [v for v in range(n) if not indegree[v]]
    removed = 0
    while ready:
        u = ready.pop()
        removed += 1
        for v in successors[u]:
            indegree[v] -= 1
            if not indegree[v]:
                ready.append(v)
    if removed == n:
        return []
    # Left: the nodes with a remaining predecessor; no edge leads from them to a peeled node.
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(n):
        if not indegree[root] or index[root] >= 0:
            continue
        work = [(root, iter(successors[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            node, it = work[-1]
            advanced = False
            for child in it:
                if index[child] < 0:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack[child] = True
                    work.append((child, iter(successors[child])))
                    advanced = True
                    break
                if on_stack[child] and index[child] < low[node]:
                    low[node] = index[child]
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                if low[node] < low[parent]:
                    low[parent] = low[node]
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors[node]:
                    out.append(component)
    return out






def trace(
    session: Session,
    start_lot_ids: Sequence[uuid.UUID],
    direction: Direction = "both",
    as_of: datetime | None = None,
    max_depth: int | None = None,
    *,
    with_stock: bool = True,
) -> TraceResult:
    """Trace lots forward (where used), backward (where from) or both, as of a time.

    ``with_stock=False`` skips receipts, on-hand and mass balance (lots, edges and shipments only).
    Raises NotFound for unknown lot ids, InvalidInput for a bad direction, as_of or max_depth.
    """
    if direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    start = _validate_lot_ids(start_lot_ids)
    as_of = validate_as_of(as_of)
    max_depth = validate_max_depth(max_depth)
    when = as_of if as_of is not None else utcnow()
    statements = 0
    # The statements below go through the raw driver cursor, which does not autoflush: make the
    # caller's pending changes (a status just set, a posting just made) visible to the trace.
    session.flush()

    found = {r.lot_id: r for r in _rows(session, "lots", {"lot_ids": list(start)})}
    statements += 1
    missing = [x for x in start if x not in found]
    if missing:
        raise NotFound(
            f"unknown lot {', '.join(str(x) for x in missing)}", kind="lot", ref=", ".join(map(str, missing))
        )

    with local_settings(session, **TRACE_SETTINGS), no_gc_pauses():
        result = _walk(session, start, found, direction, as_of, when, max_depth, with_stock)
    return dataclasses.replace(result, statements=result.statements + statements + 2)


def _walk(session, start, found, direction, as_of, when, max_depth, with_stock) -> TraceResult:
    """Statements 3..5 of a trace: closure with lot details, shipments, stock (see module doc)."""
    as_of_requested = as_of is not None
    statements = 0
    info, edge_rows = _closure_rows(session, direction, start, when, max_depth)
    statements += 1
    n = len(info)
    start_ints = {x.int for x in start}  # int hashing is C; UUID.__hash__ is Python
    start_no = [i for i, x in enumerate(info) if x[0].int in start_ints]
    is_target = [False] * n
    for i in start_no:
        is_target[i] = True

    # Shipments of the targets and of downstream lots, listed in (sku, lot_id) order so that the
    # statement's lot position orders rows like the trace does. The statement is sent now and
    # runs while the graph work below is done.
    shipped = [i for i in range(n) if is_target[i] or info[i][9]]
    shipped.sort(key=lambda i: (info[i][3], info[i][0].int))
    with _pipelined(session, "shipments", {"lot_ids": [info[i][0] for i in shipped], "as_of": when}) as fetch:
        edges, ends, children, parents = _closure_graph(info, edge_rows)
        down = _int_bfs(start_no, children, max_depth) if direction != "backward" else [-1] * n
        up = _int_bfs(start_no, parents, max_depth) if direction != "forward" else [-1] * n

        def traced(i: int, role: str, depth: int) -> TracedLot:
            lot_id, item_id, lot_code, sku, item_name, uom, status, vendor_lot_code, expires_at, _ = info[i]
            return TracedLot(
                lot_id,
                lot_code,
                item_id,
                sku,
                item_name,
                uom,
                status,
                role,
                depth,
                vendor_lot_code,
                expires_at,
            )

        # Lot numbers follow (sku, lot_code): a stable sort on the depth alone gives the
        # (role, depth, sku, lot_code) order.
        lots = [traced(i, "target", 0) for i in sorted(start_no)]
        for role, depths in (("upstream_component", up), ("downstream_finished", down)):
            reached = [i for i in range(n) if depths[i] > 0 and not is_target[i]]
            reached.sort(key=depths.__getitem__)
            lots += [traced(i, role, depths[i]) for i in reached]

        successors: list[list[int]] = [[] for _ in range(n)]
        for p, c in ends:
            successors[p].append(c)
        cycles = []
        for component in _int_cycles(successors):
            members = sorted(component, key=lambda i: str(info[i][0]))
            cycles.append(TraceCycle(tuple(info[i][0] for i in members), tuple(info[i][2] for i in members)))
        cycles.sort(key=lambda c: str(c.lot_ids[0]))

        by_position = [None, *((info[i][0], info[i][1], info[i][3], info[i][5]) for i in shipped)]
        shipments = []
        append = shipments.append
        # columns: TracedShipment's fields up to shipped_at, the lot's position (1-based), quantity
        # Built without the frozen dataclass __init__ (one object.__setattr__ per field): half the
        # time for tens of thousands of rows; the instances are the same (fields, eq, hash, frozen).
        new, set_dict = object.__new__, object.__setattr__
        for sid, oid, number_, cid, ccode, cname, shipped_at, lot_no, quantity in fetch():
            lot_id, item_id, sku, uom = by_position[lot_no]
            shipment = new(TracedShipment)
            set_dict(
                shipment,
                "__dict__",
                {
                    "sales_order_shipment_id": sid,
                    "sales_order_id": oid,
                    "sales_order_number": number_,
                    "customer_id": cid,
                    "customer_code": ccode,
                    "customer_name": cname,
                    "shipped_at": shipped_at,
                    "lot_id": lot_id,
                    "item_id": item_id,
                    "sku": sku,
                    "quantity": quantity,
                    "uom": uom,
                },
            )
            append(shipment)
    statements += 1

    receipts: list[TracedReceipt] = []
    on_hand: list[LotOnHand] = []
    balances: list[MassBalance] = []
    if with_stock:
        all_ids = [info[i][0] for i in range(n)]
        details = {x[0]: _LotDetails(*x[:9]) for x in info}
        rows = _rows(
            session, "stock", {"lot_ids": all_ids, "as_of": when, "with_balances": not as_of_requested}
        )
        statements += 1
        ledger = [r for r in rows if r.kind == "ledger"]
        receipts = [
            TracedReceipt(
                movement_id=r.movement_id,
                movement_type=r.movement_type,
                occurred_at=r.occurred_at,
                lot_id=r.lot_id,
                vendor_lot_code=details[r.lot_id].vendor_lot_code,
                location_id=r.location_id,
                location_code=r.location_code,
                quantity=r.on_hand,
                vendor_id=r.vendor_id,
                vendor_code=r.vendor_code,
                vendor_name=r.vendor_name,
                customer_id=r.customer_id,
                customer_code=r.customer_code,
                customer_name=r.customer_name,
                external_ref=r.external_ref,
            )
            for r in rows
            if r.kind == "receipt"
        ]
        receipts.sort(key=lambda r: (r.occurred_at, r.movement_id, r.lot_id))
        source = "ledger" if as_of_requested else "balance"
        stock = [
            (r.lot_id, r.location_id, r.location_code, r.location_kind, r.on_hand)
            for r in rows
            if r.kind == source
        ]
        for lot_id, location_id, code, kind, qty in stock:
            if qty == 0:
                continue
            d = details[lot_id]
            on_hand.append(
                LotOnHand(lot_id, d.lot_code, d.sku, d.status, location_id, code, kind, qty, d.uom)
            )
        on_hand.sort(key=lambda x: (x.sku, x.lot_code, x.location_code))
        balances = _mass_balance(all_ids, details, ledger, stock)

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
        statements=statements,
    )


_FLOWS = (
    "received",
    "produced",
    "returned",
    "adjusted_in",
    "consumed",
    "shipped",
    "scrapped",
    "adjusted_out",
    "transferred_in",
    "transferred_out",
)


def _mass_balance(lot_ids, details, ledger, stock) -> list[MassBalance]:
    sums: dict[uuid.UUID, dict[str, Decimal]] = {x: dict.fromkeys(_FLOWS, Decimal(0)) for x in lot_ids}
    for r in ledger:
        acc = sums[r.lot_id]
        for name in _FLOWS:
            acc[name] += getattr(r, name)
    held: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for lot_id, _loc, _code, _kind, qty in stock:
        held[lot_id] += qty
    out = []
    for lot_id in lot_ids:
        s = sums[lot_id]
        total_in = s["received"] + s["produced"] + s["returned"] + s["adjusted_in"]
        total_out = s["consumed"] + s["shipped"] + s["scrapped"] + s["adjusted_out"]
        transfer_net = s["transferred_in"] - s["transferred_out"]
        d = details[lot_id]
        out.append(
            MassBalance(
                lot_id=lot_id,
                lot_code=d.lot_code,
                sku=d.sku,
                uom=d.uom,
                received=s["received"],
                produced=s["produced"],
                returned=s["returned"],
                adjusted_in=s["adjusted_in"],
                consumed=s["consumed"],
                shipped=s["shipped"],
                scrapped=s["scrapped"],
                adjusted_out=s["adjusted_out"],
                transfer_net=transfer_net,
                on_hand=held[lot_id],
                total_in=total_in,
                total_out=total_out,
                imbalance=total_in - total_out - held[lot_id],
            )
        )
    out.sort(key=lambda m: (m.sku, m.lot_code))
    return out
