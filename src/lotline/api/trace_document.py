"""The trace document over HTTP: its response models (what the OpenAPI promises) and its renderer.

``render(result)`` is the JSON body of ``TraceResult.to_json()`` (``lotline.trace.model``), encoded
once, straight from the result's named tuples: each row type gets a converter generated from its
field annotations (UUID -> str, datetime -> ISO 8601, Decimal -> ``decimal_text``), so a trace
route neither builds the intermediate document nor has FastAPI validate and re-encode it. The
bytes are the ones ``JSONResponse(result.to_json())`` would send (compact separators, UTF-8);
tests/api/test_trace_routes.py holds the two to each other and the body to ``TraceDocument``, so
neither the renderer nor the models can drift from ``to_json`` unseen.
"""

from __future__ import annotations

import json
import types
import typing
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from lotline.serialize import DecimalText, decimal_text
from lotline.trace import model
from lotline.trace.model import TraceResult

# ------------------------------------------------------------------------------ response models


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TraceSummary(_Out):
    lots: int
    targets: int
    upstream_components: int
    downstream_finished: int
    edges: int
    shipments: int
    customers: int
    cycles: int
    imbalanced_lots: int


class TracedLotOut(_Out):
    lot_id: uuid.UUID
    lot_code: str
    item_id: uuid.UUID
    sku: str
    item_name: str
    uom: str
    status: str
    role: Literal["target", "upstream_component", "downstream_finished"]
    depth: int
    vendor_lot_code: str | None
    expires_at: datetime | None


class TraceEdgeOut(_Out):
    """One execution's consumed lot (parent) -> produced lot (child)."""

    parent_lot_id: uuid.UUID
    child_lot_id: uuid.UUID
    work_order_execution_id: uuid.UUID
    consumed_quantity: DecimalText
    produced_quantity: DecimalText
    occurred_at: datetime


class TracedShipmentOut(_Out):
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
    quantity: DecimalText
    uom: str


class TracedReceiptOut(_Out):
    """Stock entering a traced lot from outside: a vendor receipt or a customer return."""

    movement_id: uuid.UUID
    movement_type: Literal["receipt", "return"]
    occurred_at: datetime
    lot_id: uuid.UUID
    vendor_lot_code: str | None
    location_id: uuid.UUID
    location_code: str
    quantity: DecimalText
    vendor_id: uuid.UUID | None
    vendor_code: str | None
    vendor_name: str | None
    customer_id: uuid.UUID | None
    customer_code: str | None
    customer_name: str | None
    external_ref: str | None


class LotOnHandOut(_Out):
    lot_id: uuid.UUID
    lot_code: str
    sku: str
    status: str
    location_id: uuid.UUID
    location_code: str
    location_kind: str
    quantity: DecimalText
    uom: str


class MassBalanceOut(_Out):
    """In = out + on hand, per lot; ``imbalance`` (in - out - on hand) is shown, never hidden."""

    lot_id: uuid.UUID
    lot_code: str
    sku: str
    uom: str
    received: DecimalText
    produced: DecimalText
    returned: DecimalText
    adjusted_in: DecimalText
    consumed: DecimalText
    shipped: DecimalText
    scrapped: DecimalText
    adjusted_out: DecimalText
    transfer_net: DecimalText
    on_hand: DecimalText
    total_in: DecimalText
    total_out: DecimalText
    imbalance: DecimalText
    balanced: bool


class TraceCycleOut(_Out):
    """Lots that are their own ancestors in the traced genealogy."""

    lot_ids: list[uuid.UUID]
    lot_codes: list[str]


class TraceDocument(_Out):
    """A trace: lots (role, depth), edges, shipments with customers, receipts, on-hand, mass
    balance, cycles. ``as_of`` is the time asked for, or when the trace was taken
    (``as_of_requested`` false)."""

    start_lot_ids: list[uuid.UUID]
    direction: Literal["forward", "backward", "both"]
    as_of: datetime
    as_of_requested: bool
    max_depth: int | None
    summary: TraceSummary
    lots: list[TracedLotOut]
    edges: list[TraceEdgeOut]
    shipments: list[TracedShipmentOut]
    receipts: list[TracedReceiptOut]
    on_hand: list[LotOnHandOut]
    mass_balance: list[MassBalanceOut]
    cycles: list[TraceCycleOut]


# ------------------------------------------------------------------------------------ renderer


def _value_code(annotation: object, ref: str) -> str:
    """Python source converting the value ``ref`` of a field annotated ``annotation``."""
    optional = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        annotation = members[0] if len(members) == 1 else object
    if annotation in (str, int, bool):
        code = ref
    elif annotation is uuid.UUID:
        code = f"str({ref})"
    elif annotation is datetime:
        code = f"{ref}.isoformat()"
    elif annotation is Decimal:
        code = f"_decimal({ref})"
    elif typing.get_origin(annotation) is tuple and typing.get_args(annotation)[:1] == (uuid.UUID,):
        code = f"[str(x) for x in {ref}]"
    elif typing.get_origin(annotation) is tuple and typing.get_args(annotation)[:1] == (str,):
        code = f"list({ref})"
    else:
        code = f"_jsonable({ref})"  # anything else: the trace's own conversion
    return f"(None if {ref} is None else {code})" if optional and code != ref else code


def row_converter(row_type: type) -> Callable[[tuple], dict]:
    """A function turning one named tuple of ``row_type`` into its JSON object (generated once)."""
    hints = typing.get_type_hints(row_type)
    names = row_type._fields  # type: ignore[attr-defined]  # a NamedTuple class
    items = ", ".join(f"{name!r}: {_value_code(hints[name], f'r[{i}]')}" for i, name in enumerate(names))
    namespace = {"_decimal": decimal_text, "_jsonable": model.to_jsonable}
    exec(f"def convert(r):\n    return {{{items}}}\n", namespace)  # noqa: S102 — source built above from field annotations only
    return namespace["convert"]


_LOT = row_converter(model.TracedLot)
_EDGE = row_converter(model.TraceEdge)
_SHIPMENT = row_converter(model.TracedShipment)
_RECEIPT = row_converter(model.TracedReceipt)
_ON_HAND = row_converter(model.LotOnHand)
_BALANCE = row_converter(model.MassBalance)
_CYCLE = row_converter(model.TraceCycle)
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode  # JSONResponse's


def _summary(result: TraceResult) -> dict:
    roles = {role: 0 for role in model.ROLES}
    for lot in result.lots:
        roles[lot.role] += 1
    return {
        "lots": len(result.lots),
        "targets": roles["target"],
        "upstream_components": roles["upstream_component"],
        "downstream_finished": roles["downstream_finished"],
        "edges": len(result.edges),
        "shipments": len(result.shipments),
        "customers": len({s.customer_id for s in result.shipments}),
        "cycles": len(result.cycles),
        "imbalanced_lots": sum(1 for m in result.mass_balance if m.imbalance != 0),
    }


def render(result: TraceResult) -> bytes:
    """The JSON body of ``result.to_json()``, encoded once."""
    balances = []
    for m in result.mass_balance:
        row = _BALANCE(m)
        row["balanced"] = m.imbalance == 0
        balances.append(row)
    document = {
        "start_lot_ids": [str(x) for x in result.start_lot_ids],
        "direction": result.direction,
        "as_of": result.as_of.isoformat(),
        "as_of_requested": result.as_of_requested,
        "max_depth": result.max_depth,
        "summary": _summary(result),
        "lots": list(map(_LOT, result.lots)),
        "edges": list(map(_EDGE, result.edges)),
        "shipments": list(map(_SHIPMENT, result.shipments)),
        "receipts": list(map(_RECEIPT, result.receipts)),
        "on_hand": list(map(_ON_HAND, result.on_hand)),
        "mass_balance": balances,
        "cycles": list(map(_CYCLE, result.cycles)),
    }
    return _ENCODE(document).encode()
