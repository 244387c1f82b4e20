"""Receipts, on-hand and mass balance of the traced lots, from the rows of sql/stock.sql (pure).

Mass balance per lot: in = received + produced + returned + positive adjustments; out = consumed +
shipped + scrapped + negative adjustments; transfers net to zero across locations when the ledger
is sound (shown as ``transfer_net``); imbalance = in - out - on hand, shown, never hidden. On hand
comes from the ledger as of a requested time, otherwise from the balance table (so a drift between
the two shows up as an imbalance).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

from lotline.trace.model import LotOnHand, MassBalance, TracedReceipt

# Output columns of sql/stock.sql, in order.
STOCK_COLUMNS = (
    "kind",
    "lot_id",
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

    lot_code: str
    sku: str
    status: str
    uom: str
    vendor_lot_code: str | None


class Stock(NamedTuple):
    receipts: list[TracedReceipt]
    on_hand: list[LotOnHand]
    mass_balance: list[MassBalance]


def build_stock(
    rows: Sequence[tuple], lots: Mapping[uuid.UUID, LotInfo], *, as_of_requested: bool
) -> Stock:
    """Receipts (by time, movement, lot), on-hand (by sku, lot code, location) and the mass
    balance of every lot in ``lots`` (by sku, lot code), from stock.sql's rows."""
    source = "ledger" if as_of_requested else "balance"
    receipts: list[TracedReceipt] = []
    stock: list[tuple[uuid.UUID, uuid.UUID, str, str, Decimal]] = []
    sums: dict[uuid.UUID, list[Decimal]] = {x: [Decimal(0)] * len(_FLOWS) for x in lots}
    for (
        kind,
        lot_id,
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
        if kind == "ledger":
            acc = sums[lot_id]
            for k, value in enumerate(flows):
                acc[k] += value
        elif kind == "receipt":
            receipts.append(
                TracedReceipt(
                    movement_id=movement_id,
                    movement_type=movement_type,
                    occurred_at=occurred_at,
                    lot_id=lot_id,
                    vendor_lot_code=lots[lot_id].vendor_lot_code,
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
            stock.append((lot_id, location_id, location_code, location_kind, on_hand))
    receipts.sort(key=lambda r: (r.occurred_at, r.movement_id, r.lot_id))

    on_hand_rows = []
    held: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for lot_id, location_id, code, location_kind, qty in stock:
        held[lot_id] += qty
        if qty == 0:
            continue
        d = lots[lot_id]
        on_hand_rows.append(
            LotOnHand(lot_id, d.lot_code, d.sku, d.status, location_id, code, location_kind, qty, d.uom)
        )
    on_hand_rows.sort(key=lambda x: (x.sku, x.lot_code, x.location_code))
    return Stock(receipts, on_hand_rows, mass_balance(lots, sums, held))


def mass_balance(
    lots: Mapping[uuid.UUID, LotInfo],
    sums: Mapping[uuid.UUID, Sequence[Decimal]],
    held: Mapping[uuid.UUID, Decimal],
) -> list[MassBalance]:
    """One MassBalance per lot from its flow sums (stock.sql's flow columns, in order) and on-hand."""
    out = []
    for lot_id, d in lots.items():
        (received, produced, returned, adjusted_in, consumed, shipped, scrapped, adjusted_out,
         transferred_in, transferred_out) = sums[lot_id]  # fmt: skip
        on_hand = held.get(lot_id, Decimal(0))
        total_in = received + produced + returned + adjusted_in
        total_out = consumed + shipped + scrapped + adjusted_out
        out.append(
            MassBalance(
                lot_id=lot_id,
                lot_code=d.lot_code,
                sku=d.sku,
                uom=d.uom,
                received=received,
                produced=produced,
                returned=returned,
                adjusted_in=adjusted_in,
                consumed=consumed,
                shipped=shipped,
                scrapped=scrapped,
                adjusted_out=adjusted_out,
                transfer_net=transferred_in - transferred_out,
                on_hand=on_hand,
                total_in=total_in,
                total_out=total_out,
                imbalance=total_in - total_out - on_hand,
            )
        )
    out.sort(key=lambda m: (m.sku, m.lot_code))
    return out
