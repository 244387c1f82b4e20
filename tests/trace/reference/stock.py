"""(Oracle copy of lotline.trace.stock before issue 11; see engine.py.)

Receipts, on-hand and mass balance of the traced lots, from the rows of sql/stock.sql (pure).

Mass balance per lot: in = received + produced + returned + positive adjustments; out = consumed +
shipped + scrapped + negative adjustments; transfers net to zero across locations when the ledger
is sound (shown as ``transfer_net``); imbalance = in - out - on hand, shown, never hidden. On hand
comes from the ledger as of a requested time, otherwise from the balance table (so a drift between
the two shows up as an imbalance).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from lotline.trace.model import LotOnHand, MassBalance, TracedReceipt

# Output columns of sql/stock.sql, in order.
STOCK_COLUMNS = (
    "kind",
    "lot_no",
    "location_id",
    "location_code",
    "location_kind",
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
    "on_hand",
    "movement_id",
    "movement_type",
    "occurred_at",
    "vendor_id",
    "vendor_code",
    "vendor_name",
    "customer_id",
    "customer_code",
    "customer_name",
    "external_ref",
)

_FLOWS = STOCK_COLUMNS[5:15]  # received .. transferred_out


class LotInfo(NamedTuple):
    """What the stock sections repeat about each traced lot."""

    lot_id: uuid.UUID
    lot_code: str
    sku: str
    status: str
    uom: str
    vendor_lot_code: str | None


class Stock(NamedTuple):
    receipts: list[TracedReceipt]
    on_hand: list[LotOnHand]
    mass_balance: list[MassBalance]


def build_stock(rows: Sequence[tuple], lots: Sequence[LotInfo], *, as_of_requested: bool) -> Stock:
    """Receipts (by time, movement, lot), on-hand (by sku, lot code, location) and the mass
    balance of every lot in ``lots`` (by sku, lot code), from stock.sql's rows; ``lots`` are in
    the order of the statement's lot_ids (its lot_no is a 1-based position in them)."""
    source = "ledger" if as_of_requested else "balance"
    receipts: list[TracedReceipt] = []
    zero = Decimal(0)
    sums = [[zero] * len(_FLOWS) for _ in lots]
    held = [zero] * len(lots)
    on_hand_rows = []
    for (
        kind,
        lot_no,
        location_id,
        location_code,
        location_kind,
        *flows,
        on_hand,
        movement_id,
        movement_type,
        occurred_at,
        vendor_id,
        vendor_code,
        vendor_name,
        customer_id,
        customer_code,
        customer_name,
        external_ref,
    ) in rows:
        i = lot_no - 1
        if kind == "ledger":
            acc = sums[i]
            for k, value in enumerate(flows):
                acc[k] += value
        elif kind == "receipt":
            d = lots[i]
            receipts.append(
                TracedReceipt(
                    movement_id=movement_id,
                    movement_type=movement_type,
                    occurred_at=occurred_at,
                    lot_id=d.lot_id,
                    vendor_lot_code=d.vendor_lot_code,
                    location_id=location_id,
                    location_code=location_code,
                    quantity=on_hand,
                    vendor_id=vendor_id,
                    vendor_code=vendor_code,
                    vendor_name=vendor_name,
                    customer_id=customer_id,
                    customer_code=customer_code,
                    customer_name=customer_name,
                    external_ref=external_ref,
                )
            )
        if kind == source:
            held[i] += on_hand
            if on_hand != 0:
                d = lots[i]
                on_hand_rows.append(
                    LotOnHand(d.lot_id, d.lot_code, d.sku, d.status, location_id, location_code, location_kind,
                              on_hand, d.uom)  # fmt: skip
                )
    receipts.sort(key=lambda r: (r.occurred_at, r.movement_id, r.lot_id))
    on_hand_rows.sort(key=lambda x: (x.sku, x.lot_code, x.location_code))
    return Stock(receipts, on_hand_rows, mass_balance(lots, sums, held))


def mass_balance(
    lots: Sequence[LotInfo], sums: Sequence[Sequence[Decimal]], held: Sequence[Decimal]
) -> list[MassBalance]:
    """One MassBalance per lot from its flow sums (stock.sql's flow columns, in order) and on-hand,
    all three in the same lot order; sorted by (sku, lot code)."""
    out = []
    make = MassBalance._make
    for d, flows, on_hand in zip(lots, sums, held, strict=True):
        (received, produced, returned, adjusted_in, consumed, shipped, scrapped, adjusted_out,
         transferred_in, transferred_out) = flows  # fmt: skip
        total_in = received + produced + returned + adjusted_in
        total_out = consumed + shipped + scrapped + adjusted_out
        out.append(
            make((d.lot_id, d.lot_code, d.sku, d.uom, received, produced, returned, adjusted_in, consumed,
                  shipped, scrapped, adjusted_out, transferred_in - transferred_out, on_hand, total_in,
                  total_out, total_in - total_out - on_hand))  # fmt: skip
        )
    out.sort(key=lambda m: (m.sku, m.lot_code))
    return out
