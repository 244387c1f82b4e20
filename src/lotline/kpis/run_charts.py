"""Charts of stored runs: reads snapshots, hands labelled points to the pure SVG renderer (charts.py).

Raises: NotFound (run), InvalidInput (unknown KPI or level, a level the KPI does not have, top < 1).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from lotline.errors import InvalidInput
from lotline.kpis import charts
from lotline.kpis.queries import check_dimensions, check_kpi, check_level, get_run, snapshots, time_series
from lotline.kpis.schemas import KPIS
from lotline.models import Customer, Item, Location


def series_chart(session: Session, kpi: str, *, dimensions: dict[str, Any] | None = None) -> str:
    """SVG line chart of one KPI for one dimension across published runs."""
    points = time_series(session, kpi, dimensions=dimensions)
    dims = check_dimensions(dimensions)
    label = _dims_label(session, dims)
    units = next((p.units for p in points if p.units), KPIS[kpi].units)
    return charts.line_chart(
        f"{kpi} — {label} (published runs)",
        [
            charts.Point(f"{p.window_start:%Y-%m-%d}..{p.window_end:%Y-%m-%d}", p.value, p.null_reason)
            for p in points
        ],
        units=units,
    )


def run_chart(session: Session, run_id: uuid.UUID | str, kpi: str, *, by: str = "item", top: int = 20) -> str:
    """SVG bar chart of one KPI of one run across a dimension level (largest ``top`` values)."""
    check_kpi(kpi)
    check_level(by)
    if by not in KPIS[kpi].levels:
        raise InvalidInput(f"{kpi} has no {by!r} level; its levels: {', '.join(KPIS[kpi].levels)}")
    if top < 1:
        raise InvalidInput("top must be at least 1")
    rows = snapshots(session, run_id, kpi=kpi, level=by)
    rows.sort(key=lambda r: (r.value is None, -(r.value or 0), r.label))
    run = get_run(session, run_id)
    units = next((r.units for r in rows if r.units), KPIS[kpi].units)
    shown = rows[:top]
    more = f", top {top} of {len(rows)}" if len(rows) > top else ""
    return charts.bar_chart(
        f"{kpi} by {by} — {run.window_start:%Y-%m-%d}..{run.window_end:%Y-%m-%d}{more}",
        [charts.Point(r.label, r.value, r.null_reason) for r in shown],
        units=units,
    )


def _dims_label(session: Session, dims: dict[str, str]) -> str:
    if not dims:
        return "overall"
    parts = []
    for key, model, attr in (
        ("item_id", Item, "sku"),
        ("location_id", Location, "code"),
        ("customer_id", Customer, "code"),
    ):
        if key in dims:
            obj = session.get(model, uuid.UUID(dims[key]))
            parts.append(getattr(obj, attr) if obj else dims[key])
    return " @ ".join(parts)
