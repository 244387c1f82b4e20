"""What a trace answers: the result types and their JSON document.

The per-row types (a traced lot, an edge, a shipment, a receipt, an on-hand position, a mass
balance, a cycle) are named tuples: immutable, hashable, fields by name. A big trace builds tens of
thousands of them, and ``Type._make(values)`` builds one at C speed (~0.2 µs) while a frozen
dataclass's ``__init__`` pays one ``object.__setattr__`` per field (~1.4 µs for twelve fields,
measured here) — the old workaround, ``object.__new__`` + a hand-written ``__dict__``, was fast but
skipped ``__init__``, so a field given a default or a factory would silently be missing. ``_make``
cannot go wrong that way: it refuses any number of values other than the number of fields.

``TraceResult`` (one per trace) stays a frozen dataclass. ``to_json()`` is the document the API
and ``lotline trace --json`` print: str UUIDs, ISO timestamps, quantities without trailing zeros.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from lotline.serialize import decimal_text

ROLES = ("target", "upstream_component", "downstream_finished")

T = TypeVar("T", bound=tuple)


format_quantity = decimal_text  # the one printed form of a decimal (lotline.serialize)


def to_jsonable(value: Any) -> Any:
    """The trace's JSON conversion (named tuples and dataclasses as objects)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_quantity(value)
    if hasattr(value, "_fields"):  # a named tuple: an object, not a list
        return {name: to_jsonable(v) for name, v in zip(value._fields, value, strict=True)}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    return value


def checked(row_type: type[T], rows: list[T]) -> list[T]:
    """``rows``, refused (TypeError) unless their first row has as many values as ``row_type`` has fields.

    The engine's hot loops build rows with ``tuple.__new__(row_type, values)``: the C constructor
    ``_make`` wraps in a Python function that also checks the length, a frame and a ``len`` per
    row (38.6k rows for the most-used lot: ~40 % of its result building, profiled). Each list is
    built by one expression with a fixed number of values, so checking its first row checks them
    all — the guarantee ``_make`` gives, kept, for one call per list.
    """
    if rows and len(rows[0]) != len(row_type._fields):  # type: ignore[attr-defined]
        raise TypeError(f"{row_type.__name__} has {len(row_type._fields)} fields, got {len(rows[0])} values")  # type: ignore[attr-defined]
    return rows


class TracedLot(NamedTuple):
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


class TraceEdge(NamedTuple):
    parent_lot_id: uuid.UUID
    child_lot_id: uuid.UUID
    work_order_execution_id: uuid.UUID
    consumed_quantity: Decimal
    produced_quantity: Decimal
    occurred_at: datetime


class TracedShipment(NamedTuple):
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


class TracedReceipt(NamedTuple):
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


class LotOnHand(NamedTuple):
    lot_id: uuid.UUID
    lot_code: str
    sku: str
    status: str
    location_id: uuid.UUID
    location_code: str
    location_kind: str
    quantity: Decimal
    uom: str


class MassBalance(NamedTuple):
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


class TraceCycle(NamedTuple):
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
        return self.document(to_jsonable, to_jsonable)

    def document(self, rows: Callable[[list], list], value: Callable[[Any], Any]) -> dict:
        """The trace document, its shape defined here once: ``rows`` turns a list of row tuples into
        JSON objects, ``value`` converts a single value (``to_json`` makes both JSON-safe; the API's
        ``trace_document`` leaves UUIDs and datetimes for its encoder)."""
        roles = dict.fromkeys(ROLES, 0)
        for lot in self.lots:
            roles[lot.role] += 1
        return {
            "start_lot_ids": value(list(self.start_lot_ids)),
            "direction": self.direction,
            "as_of": value(self.as_of),
            "as_of_requested": self.as_of_requested,
            "max_depth": self.max_depth,
            "summary": {
                "lots": len(self.lots),
                "targets": roles["target"],
                "upstream_components": roles["upstream_component"],
                "downstream_finished": roles["downstream_finished"],
                "edges": len(self.edges),
                "shipments": len(self.shipments),
                "customers": len({s.customer_id for s in self.shipments}),
                "cycles": len(self.cycles),
                "imbalanced_lots": sum(1 for m in self.mass_balance if not m.balanced),
            },
            "lots": rows(self.lots),
            "edges": rows(self.edges),
            "shipments": rows(self.shipments),
            "receipts": rows(self.receipts),
            "on_hand": rows(self.on_hand),
            "mass_balance": [
                dict(row, balanced=m.balanced) for row, m in zip(rows(self.mass_balance), self.mass_balance, strict=True)
            ],
            "cycles": rows(self.cycles),
        }
