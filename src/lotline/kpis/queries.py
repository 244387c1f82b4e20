"""Reading stored KPI runs: listings, snapshots, two runs compared, a KPI across runs, roll-ups.

Everything here reads; nothing changes a run. The filters (KPI name, dimension containment,
dimension level) are validated first, so a bad one is an InvalidInput naming it, never an empty
answer. Stored NULL values carry their reason in ``units`` ('<unit> (null: <reason>)'); the rows
returned here split it into ``units`` and ``null_reason``.

Raises: NotFound (run, item, location, customer), InvalidInput (unknown KPI, level or status, bad
dimensions).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.db import pages, sql
from lotline.errors import InvalidInput, NotFound
from lotline.kpis.runs import TRANSITIONS
from lotline.kpis.schemas import DIMENSION_KEYS, KPIS, LEVELS
from lotline.models import Customer, Item, KpiRun, Location

_PKG = "lotline.kpis"
_NULL_UNITS = re.compile(r"^(?P<units>.*) \(null: (?P<reason>.*)\)$")


# --- checks and small helpers ----------------------------------------------------------------------


def split_units(units: str | None) -> tuple[str | None, str | None]:
    """'days (null: stock but no usage)' -> ('days', 'stock but no usage'); plain units -> (units, None)."""
    if units is None:
        return None, None
    m = _NULL_UNITS.match(units)
    return (m["units"], m["reason"]) if m else (units, None)


def round_ratio(num: Decimal, den: Decimal) -> Decimal:
    """num / den to 6 places, half away from zero — exactly PostgreSQL's round(num / den, 6)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return (Decimal(num) / Decimal(den)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def check_kpi(name: str | None) -> str | None:
    """The KPI name if known; InvalidInput listing the known names otherwise."""
    if name is None or name in KPIS:
        return name
    raise InvalidInput(f"unknown KPI {name!r}; known KPIs: {', '.join(KPIS)}", kpi=name)


def check_level(level: str | None) -> str | None:
    if level is None or level in LEVELS:
        return level
    raise InvalidInput(f"unknown dimension level {level!r}; levels: {', '.join(LEVELS)}", level=level)


def dimensions_for(
    session: Session,
    *,
    item: str | None = None,
    location: str | None = None,
    customer: str | None = None,
) -> dict[str, str]:
    """A dimensions object from natural keys or UUIDs (SKU, location code, customer code)."""
    dims: dict[str, str] = {}
    if item is not None:
        dims["item_id"] = str(catalog.resolve(session, Item, item, context="KPI dimension").id)
    if location is not None:
        dims["location_id"] = str(catalog.resolve(session, Location, location, context="KPI dimension").id)
    if customer is not None:
        dims["customer_id"] = str(catalog.resolve(session, Customer, customer, context="KPI dimension").id)
    return dims


def check_dimensions(dims: dict[str, Any] | None) -> dict[str, str]:
    """Validate a dimensions filter: known keys, UUID string values."""
    if dims is None:
        return {}
    if not isinstance(dims, dict):
        raise InvalidInput('dimensions must be a JSON object such as {"item_id": "<uuid>"}')
    out = {}
    for key, value in dims.items():
        if key not in DIMENSION_KEYS:
            raise InvalidInput(f"unknown dimension key {key!r}; keys: {', '.join(DIMENSION_KEYS)}", key=key)
        if catalog.as_uuid(str(value)) is None:
            raise InvalidInput(f"dimension {key} must be a UUID, got {value!r}", key=key)
        out[key] = str(catalog.as_uuid(str(value)))
    return out


def _filters(kpi: str | None, dims: dict[str, str], level: str | None) -> dict[str, Any]:
    """The optional filters of snapshots.sql / compare.sql (None = not filtered)."""
    return {
        "kpi": kpi,
        "dims": json.dumps(dims) if dims else None,
        "level_keys": sorted(LEVELS[level]) if level is not None else None,
    }


# --- runs ------------------------------------------------------------------------------------------


def get_run(session: Session, run_id: uuid.UUID | str) -> KpiRun:
    rid = catalog.as_uuid(str(run_id))
    run = session.get(KpiRun, rid) if rid is not None else None
    if run is None:
        raise NotFound(f"unknown KPI run {run_id}", kind="kpi_run", ref=str(run_id))
    return run


def run_row(run: KpiRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "window_start": run.window_start,
        "window_end": run.window_end,
        "as_of": run.as_of,
        "notes": run.notes,
        "created_at": run.created_at,
    }


def list_runs(
    session: Session, *, status: str | None = None, include_archived: bool = False, limit: int = 100
) -> list[KpiRun]:
    """Runs, newest first; archived runs only when asked for (or when filtering on archived)."""
    if status is not None and status not in TRANSITIONS:
        raise InvalidInput(f"unknown run status {status!r}; statuses: {', '.join(TRANSITIONS)}")
    query = sa.select(KpiRun).order_by(KpiRun.created_at.desc(), KpiRun.id).limit(limit)
    if status is not None:
        query = query.where(KpiRun.status == status)
    elif not include_archived:
        query = query.where(KpiRun.status != "archived")
    return list(session.scalars(query))


def runs_page(
    session: Session, *, status: str | None = None, include_archived: bool = False,
    after: Sequence[str] | None, limit: int,
) -> pages.Page:
    """One page of (run,) rows of ``list_runs``, newest first (by creation time, then id)."""
    if status is not None and status not in TRANSITIONS:
        raise InvalidInput(f"unknown run status {status!r}; statuses: {', '.join(TRANSITIONS)}")
    query = sa.select(KpiRun)
    if status is not None:
        query = query.where(KpiRun.status == status)
    elif not include_archived:
        query = query.where(KpiRun.status != "archived")
    return pages.page(session, query, [KpiRun.created_at, KpiRun.id], lambda r: (r[0].created_at, r[0].id),
                      after=after, limit=limit, descending=True)


def kpi_names() -> Sequence[str]:
    return list(KPIS)


# --- snapshots -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotRow:
    kpi_name: str
    dimensions: dict[str, str]
    value: Decimal | None
    units: str | None
    null_reason: str | None
    numerator: Decimal | None
    denominator: Decimal | None
    sku: str | None
    location: str | None
    customer: str | None
    id: uuid.UUID | None = None

    @property
    def position(self) -> tuple[str, ...]:
        """The row's place in the snapshot order (``snapshots(after=...)`` starts after it)."""
        return (self.kpi_name, self.sku or "", self.location or "", self.customer or "", str(self.id))

    @property
    def label(self) -> str:
        parts = [p for p in (self.sku, self.location, self.customer) if p]
        return " @ ".join(parts) if parts else "overall"


def snapshots(
    session: Session,
    run_id: uuid.UUID | str,
    *,
    kpi: str | None = None,
    dimensions: dict[str, Any] | None = None,
    level: str | None = None,
    limit: int | None = None,
    after: Sequence[str] | None = None,
) -> list[SnapshotRow]:
    """A run's snapshots with their numerator/denominator, filtered by KPI, containment and level;
    ``after`` (a row's ``position``) starts after that row. InvalidInput for a malformed position."""
    run = get_run(session, run_id)
    check_kpi(kpi)
    check_level(level)
    dims = check_dimensions(dimensions)
    if after is not None and len(after) != 5:
        raise InvalidInput(f"a snapshot position has 5 values, not {len(after)}", parameter="cursor")
    position = dict(zip(("after_kpi", "after_sku", "after_location", "after_customer", "after_id"),
                        after if after is not None else (None,) * 5, strict=True))
    params = {"run_id": run.id, "row_limit": int(limit) if limit else None, **_filters(kpi, dims, level), **position}
    out = []
    for r in sql.rows(session, sql.load_sql(_PKG, "snapshots"), params):
        units, reason = split_units(r.units)
        out.append(
            SnapshotRow(
                r.kpi_name,
                r.dimensions,
                r.value,
                units,
                reason,
                r.numerator_qty,
                r.denominator_qty,
                r.sku,
                r.location_code,
                r.customer_code,
                r.id,
            )
        )
    return out


def snapshot_row(s: SnapshotRow) -> dict[str, Any]:
    return {
        "kpi": s.kpi_name,
        "dimensions": s.dimensions,
        "label": s.label,
        "value": s.value,
        "units": s.units,
        "null_reason": s.null_reason,
        "numerator": s.numerator,
        "denominator": s.denominator,
    }


# --- comparisons, series, roll-ups -----------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    kpi_name: str
    dimensions: dict[str, str]
    label: str
    value_a: Decimal | None
    value_b: Decimal | None
    delta: Decimal | None


def compare(
    session: Session,
    run_a: uuid.UUID | str,
    run_b: uuid.UUID | str,
    *,
    kpi: str | None = None,
    dimensions: dict[str, Any] | None = None,
    level: str | None = None,
) -> list[Comparison]:
    """Side by side values of two runs (delta = b - a), matched on KPI and exact dimensions."""
    a, b = get_run(session, run_a), get_run(session, run_b)
    check_kpi(kpi)
    check_level(level)
    dims = check_dimensions(dimensions)
    params = {"run_a": a.id, "run_b": b.id, **_filters(kpi, dims, level)}
    out = []
    for r in sql.rows(session, sql.load_sql(_PKG, "compare"), params):
        label = " @ ".join(p for p in (r.sku, r.location_code, r.customer_code) if p) or "overall"
        out.append(Comparison(r.kpi_name, r.dimensions, label, r.value_a, r.value_b, r.delta))
    return out


@dataclass(frozen=True)
class SeriesPoint:
    run_id: uuid.UUID
    window_start: datetime
    window_end: datetime
    as_of: datetime
    value: Decimal | None
    units: str | None
    null_reason: str | None


def time_series(session: Session, kpi: str, *, dimensions: dict[str, Any] | None = None) -> list[SeriesPoint]:
    """One KPI for one exact dimension across published runs, ordered by window."""
    check_kpi(kpi)
    dims = check_dimensions(dimensions)
    rows = sql.rows(session, sql.load_sql(_PKG, "time_series"), {"kpi": kpi, "dims": json.dumps(dims)})
    out = []
    for r in rows:
        units, reason = split_units(r.units)
        out.append(SeriesPoint(r.id, r.window_start, r.window_end, r.as_of, r.value, units, reason))
    return out


def rollup(
    session: Session, run_id: uuid.UUID | str, kpi: str, *, level: str
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(sum num, sum den, value) over the rollup inputs of one level (e.g. all items) of a run.

    The value is computed as the snapshots were — round(sum(num) / sum(den), 6) in SQL, NULL when
    sum(den) = 0, sum(num) for additive KPIs — so it equals the stored coarser value exactly.
    """
    run = get_run(session, run_id)
    check_kpi(kpi)
    check_level(level)
    row = sql.one(
        session,
        sql.load_sql(_PKG, "rollup"),
        {"run_id": run.id, "kpi": kpi, "keys": sorted(LEVELS[level])},
    )
    if KPIS[kpi].denominator is None:
        return row.num, None, row.num
    return row.num, row.den, row.value
