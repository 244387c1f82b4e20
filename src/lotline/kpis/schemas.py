"""Input schemas and the KPI catalogue for inventory KPI runs.

The catalogue (``KPIS``) is the single list of KPI names, their dimension levels, units and
definitions; the SQL in ``sql/inputs.sql`` produces exactly these names (a test checks it), the
CLI/API validate KPI names against it, and `lotline kpi defs` and `GET /kpi/defs` print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import model_validator

from lotline.auth.schemas import SignatureIn
from lotline.types import Input, Text, Timestamp, utcnow
from lotline.vocab import KpiRunStatus

# Dimension levels: the exact key set of the ``dimensions`` jsonb for each level.
LEVELS: dict[str, tuple[str, ...]] = {
    "overall": (),
    "item": ("item_id",),
    "location": ("location_id",),
    "item_location": ("item_id", "location_id"),
    "customer": ("customer_id",),
}
DIMENSION_KEYS = ("item_id", "location_id", "customer_id")

INVENTORY_LEVELS = ("overall", "item", "location", "item_location")
LINE_FILL_LEVELS = ("overall", "item", "customer")
ORDER_FILL_LEVELS = ("overall", "customer")

MAX_WINDOW = timedelta(days=3660)  # ten years; longer windows are almost certainly a typo


@dataclass(frozen=True)
class KpiDef:
    name: str
    levels: tuple[str, ...]
    units: str
    numerator: str
    denominator: str | None  # None: additive KPI, value = numerator, roll-up = sum
    definition: str


KPIS: dict[str, KpiDef] = {
    k.name: k
    for k in [
        KpiDef(
            "avg_on_hand_qty",
            INVENTORY_LEVELS,
            "item uom ('mixed uom' across items)",
            "time-weighted average on-hand (negative clamped to 0)",
            None,
            "integral of max(on-hand, 0) over [start, end) / window length",
        ),
        KpiDef(
            "avg_on_hand_value",
            INVENTORY_LEVELS,
            "cost",
            "average on-hand x standard cost",
            None,
            "avg_on_hand_qty at items.standard_cost",
        ),
        KpiDef(
            "turns_qty",
            INVENTORY_LEVELS,
            "turns per window",
            "outflow qty (shipments + production consumption)",
            "avg on-hand qty",
            "outflow / average on-hand, for the window",
        ),
        KpiDef(
            "turns_qty_annualised",
            INVENTORY_LEVELS,
            "turns per year",
            "outflow qty x 365 / window days",
            "avg on-hand qty",
            "turns_qty x 365 / window days",
        ),
        KpiDef(
            "turns_value",
            INVENTORY_LEVELS,
            "turns per window",
            "outflow at standard cost",
            "avg on-hand value",
            "outflow value / average on-hand value",
        ),
        KpiDef(
            "turns_value_annualised",
            INVENTORY_LEVELS,
            "turns per year",
            "outflow value x 365 / window days",
            "avg on-hand value",
            "turns_value x 365 / window days",
        ),
        KpiDef(
            "days_of_inventory_qty",
            INVENTORY_LEVELS,
            "days",
            "inventory-days (integral of clamped on-hand, qty x days)",
            "outflow qty",
            "inventory-days / outflow = average on-hand / daily outflow",
        ),
        KpiDef(
            "days_of_inventory_value",
            INVENTORY_LEVELS,
            "days",
            "inventory value-days",
            "outflow value",
            "days of inventory at standard cost",
        ),
        KpiDef(
            "stockout_days",
            INVENTORY_LEVELS,
            "days per series",
            "window days ending with on-hand <= 0, summed over item x location series",
            "number of series",
            "per item x location: days out of stock (end of day) in the window; coarser: mean over its series",
        ),
        KpiDef(
            "negative_stock_days",
            INVENTORY_LEVELS,
            "days per series",
            "window days ending with on-hand < 0, summed over series",
            "number of series",
            "flag for negative stock (untracked items): days below zero; > 0 means clamped",
        ),
        KpiDef(
            "negative_on_hand_qty",
            INVENTORY_LEVELS,
            "item uom",
            "time-weighted average of the negative part of on-hand",
            None,
            "what the clamp removed from avg_on_hand_qty (0 unless stock went negative)",
        ),
        KpiDef(
            "scrapped_qty",
            INVENTORY_LEVELS,
            "item uom",
            "quantity removed by scrap movements in the window (reversals net out)",
            None,
            "sum of -quantity over scrap movement lines",
        ),
        KpiDef(
            "scrapped_value",
            INVENTORY_LEVELS,
            "cost",
            "scrapped_qty x standard cost",
            None,
            "scrapped quantity at standard cost",
        ),
        KpiDef(
            "expired_qty",
            INVENTORY_LEVELS,
            "item uom",
            "quantity scrapped in the window from lots whose expires_at had passed",
            None,
            "expiry write-offs (a part of scrapped_qty)",
        ),
        KpiDef(
            "expired_value",
            INVENTORY_LEVELS,
            "cost",
            "expired_qty x standard cost",
            None,
            "expired quantity at standard cost",
        ),
        KpiDef(
            "held_share_qty",
            INVENTORY_LEVELS,
            "ratio",
            "on-hand at window end of lots in quarantine or blocked",
            "on-hand at window end (>= 0)",
            "share of closing stock that is quarantined or blocked",
        ),
        KpiDef(
            "held_share_value",
            INVENTORY_LEVELS,
            "ratio",
            "held on-hand value at window end",
            "on-hand value at window end",
            "share of closing stock value that is quarantined or blocked",
        ),
        KpiDef(
            "item_line_fill_rate",
            LINE_FILL_LEVELS,
            "ratio",
            "sum of min(shipped by due date, ordered)",
            "sum of ordered",
            "ILFR over sales order lines due in the window",
        ),
        KpiDef(
            "line_fill_rate",
            LINE_FILL_LEVELS,
            "ratio",
            "lines shipped complete by due date",
            "lines due in the window",
            "share of lines filled complete and on time",
        ),
        KpiDef(
            "order_fill_rate",
            ORDER_FILL_LEVELS,
            "ratio",
            "orders whose lines due in the window were all filled complete",
            "orders with lines due",
            "share of orders filled complete and on time",
        ),
    ]
}

RunStatus = KpiRunStatus


class RunIn(Input):
    """A KPI run request: half-open window [window_start, window_end) as of ``as_of``."""

    window_start: Timestamp
    window_end: Timestamp
    as_of: Timestamp | None = None
    notes: Text | None = None
    # only with ?publish=true: the publisher's electronic signature
    signature: SignatureIn | None = None

    @model_validator(mode="after")
    def _check_window(self) -> RunIn:
        if self.window_end <= self.window_start:
            raise ValueError(
                f"window_end {self.window_end.isoformat()} must be after window_start "
                f"{self.window_start.isoformat()} (the window is [start, end))"
            )
        if self.window_end - self.window_start > MAX_WINDOW:
            raise ValueError("the window is longer than ten years")
        if self.as_of is not None:
            if self.as_of > utcnow():
                raise ValueError(
                    f"as_of {self.as_of.isoformat()} is in the future; a run can only be reproduced "
                    "as of a time that has passed"
                )
            if self.window_end > self.as_of:
                raise ValueError(
                    f"window_end {self.window_end.isoformat()} is after as_of {self.as_of.isoformat()}; "
                    "a KPI run measures a window that has ended"
                )
        elif self.window_end > utcnow():
            raise ValueError(
                f"window_end {self.window_end.isoformat()} is in the future; a KPI run measures a "
                "window that has ended"
            )
        return self
