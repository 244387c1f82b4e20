"""Lot genealogy traces: where a lot came from (backward), where it went (forward), as of a time.

``trace(session, start_lot_ids, direction, as_of, max_depth)`` answers in at most seven statements
whatever the size of the genealogy — never one per lot or per hop:

1. the start lots (NotFound for unknown ids);
2. transaction-local planner settings (sql/planner_set.sql: no JIT, no parallel or merge joins,
   more work_mem — a trace is a chain of index probes from a known set of lots), put back by the
   last statement (sql/planner_restore.sql);
3. the forward and backward closures in one statement (sql/closure.sql): recursive CTEs over the
   derived ``lot_genealogy_edges`` table whose UNION key is the lot id alone, so each lot is
   expanded once however many paths or cycles reach it. The closure comes back as its edges and
   the minimum depth of each lot is a breadth-first pass over those rows in Python. With
   ``max_depth`` a bounded variant keeps the depth in the recursion so it stops at the limit;
4. the reached lots' item details;
5. shipments of the targets and of downstream lots (never the other uses of an upstream
   component), with order and customer;
6. the ledger of every reached lot as of the time, read once: the mass balance split by movement
   type, receipts and returns, and (as of now) the balance-table on-hand (sql/stock.sql).

Rows are fetched with the session's own psycopg cursor (same connection, transaction and snapshot)
as named tuples: a big trace returns tens of thousands of rows and SQLAlchemy Row wrapping cost
more than the queries.

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
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row, tuple_row
from sqlalchemy.orm import Session

from lotline.db import load_sql
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
    the two statements that return the most rows). Same connection and transaction as the
    session, so the snapshot is shared.
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


def _closure(
    session: Session, direction: str, start: Sequence[uuid.UUID], as_of: datetime, max_depth: int | None
) -> tuple[list[TraceEdge], list[TraceEdge]]:
    """(forward edges, backward edges) of the closure, in one statement."""
    params: dict[str, Any] = {
        "forward_start": list(start) if direction in ("forward", "both") else [],
        "backward_start": list(start) if direction in ("backward", "both") else [],
        "as_of": as_of,
    }
    name = "closure"
    if max_depth is not None:
        name = "closure_bounded"
        params["max_depth"] = max_depth
    out: dict[str, list[TraceEdge]] = {"forward": [], "backward": []}
    # columns: walk, then TraceEdge's fields in order (see closure.sql)
    for walk, *fields_ in _rows(session, name, params, plain=True):
        out[walk].append(TraceEdge(*fields_))
    return out["forward"], out["backward"]


def bfs_depths(
    start: Iterable[uuid.UUID], adjacency: dict[uuid.UUID, set[uuid.UUID]], max_depth: int | None = None
) -> dict[uuid.UUID, int]:
    """Minimum hop count from any start node (plain breadth-first search over an adjacency dict)."""
    depth: dict[uuid.UUID, int] = {}
    queue: deque[uuid.UUID] = deque()
    for s in start:
        if s not in depth:
            depth[s] = 0
            queue.append(s)
    while queue:
        node = queue.popleft()
        d = depth[node]
        if max_depth is not None and d >= max_depth:
            continue
        for nxt in adjacency.get(node, ()):
            if nxt not in depth:
                depth[nxt] = d + 1
                queue.append(nxt)
    return depth


def strongly_connected(adjacency: dict[uuid.UUID, set[uuid.UUID]]) -> list[list[uuid.UUID]]:
    """Strongly connected components with a cycle (size > 1 or a self-loop); iterative Tarjan."""
    index: dict[uuid.UUID, int] = {}
    low: dict[uuid.UUID, int] = {}
    on_stack: set[uuid.UUID] = set()
    stack: list[uuid.UUID] = []
    out: list[list[uuid.UUID]] = []
    counter = 0
    # Visiting order does not change the components; only the output is sorted (deterministic).
    nodes = list(dict.fromkeys([*adjacency, *(v for vs in adjacency.values() for v in vs)]))
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(adjacency.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(adjacency.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in adjacency.get(node, ()):
                    out.append(sorted(component, key=str))
    out.sort(key=lambda c: str(c[0]))
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

    previous = _rows(session, "planner_set", {})[0]
    try:
        with no_gc_pauses():
            result = _walk(session, start, found, direction, as_of, when, max_depth, with_stock)
    except sa.exc.DBAPIError:
        raise  # the transaction is aborted; its end discards the local settings
    except BaseException:
        _restore(session, previous)
        raise
    _restore(session, previous)
    return dataclasses.replace(result, statements=result.statements + statements + 2)


def _restore(session: Session, previous) -> None:
    _rows(
        session,
        "planner_restore",
        {
            "jit": previous.jit,
            "max_parallel_workers_per_gather": previous.max_parallel_workers_per_gather,
            "enable_mergejoin": previous.enable_mergejoin,
            "work_mem": previous.work_mem,
        },
    )


def _walk(session, start, found, direction, as_of, when, max_depth, with_stock) -> TraceResult:
    """Statements 3..6 of a trace: closure, lot details, shipments, stock (see module doc)."""
    as_of_requested = as_of is not None
    statements = 0
    forward, backward = _closure(session, direction, start, when, max_depth)
    statements += 1

    children: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    parents: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for e in forward:
        children[e.parent_lot_id].add(e.child_lot_id)
    for e in backward:
        parents[e.child_lot_id].add(e.parent_lot_id)
    down = bfs_depths(start, children, max_depth) if direction != "backward" else {}
    up = bfs_depths(start, parents, max_depth) if direction != "forward" else {}
    targets = set(start)

    all_ids = list(dict.fromkeys([*start, *down, *up]))
    details = dict(found)
    others = [x for x in all_ids if x not in details]
    if others:
        details.update({r.lot_id: r for r in _rows(session, "lots", {"lot_ids": others})})
        statements += 1

    def traced(lot_id: uuid.UUID, role: str, depth: int) -> TracedLot:
        d = details[lot_id]
        return TracedLot(
            lot_id=lot_id,
            lot_code=d.lot_code,
            item_id=d.item_id,
            sku=d.sku,
            item_name=d.item_name,
            uom=d.uom,
            status=d.status,
            role=role,
            depth=depth,
            vendor_lot_code=d.vendor_lot_code,
            expires_at=d.expires_at,
        )

    def order_key(x: TracedLot):
        return (ROLES.index(x.role), x.depth, x.sku, x.lot_code)

    lots = [traced(x, "target", 0) for x in start]
    lots += [traced(x, "upstream_component", d) for x, d in up.items() if x not in targets]
    lots += [traced(x, "downstream_finished", d) for x, d in down.items() if x not in targets]
    lots.sort(key=order_key)

    # Both walks can return the same edge (a cycle through the targets): keep it once. One walk
    # alone never repeats an edge, and hashing tens of thousands of UUID triples is not free.
    if forward and backward:
        edges = list(
            {(e.work_order_execution_id, e.parent_lot_id, e.child_lot_id): e for e in backward + forward}.values()
        )
    else:
        edges = forward or backward
    edges.sort(key=lambda e: (e.occurred_at, e.parent_lot_id, e.child_lot_id))  # UUIDs order like their text

    adjacency: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for e in edges:
        adjacency[e.parent_lot_id].add(e.child_lot_id)
    cycles = [
        TraceCycle(tuple(c), tuple(details[x].lot_code for x in c)) for c in strongly_connected(adjacency)
    ]

    shipped_lots = list(dict.fromkeys([*start, *(x for x in down if x not in targets)]))
    items = {x: (d.item_id, d.sku, d.uom) for x, d in details.items()}
    shipments = []
    # columns: TracedShipment's fields up to lot_id, then quantity (see shipments.sql)
    for *head, lot_id, quantity in _rows(
        session, "shipments", {"lot_ids": shipped_lots, "as_of": when}, plain=True
    ):
        item_id, sku, uom = items[lot_id]
        shipments.append(TracedShipment(*head, lot_id, item_id, sku, quantity, uom))
    statements += 1
    shipments.sort(key=lambda s: (s.shipped_at, s.sales_order_number, s.sku, s.lot_id))

    receipts: list[TracedReceipt] = []
    on_hand: list[LotOnHand] = []
    balances: list[MassBalance] = []
    if with_stock:
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
