"""Inventory KPI runs: reproducible, append-only snapshots with exact roll-ups.

A run measures the half-open window [window_start, window_end) from the ledger as it was recorded
at ``as_of``: movements, orders and shipments whose ``created_at`` is after ``as_of`` are ignored
(``created_at`` = when the fact was recorded, so a backdated posting entered later cannot change a
rerun; ``occurred_at`` places a movement in time). Computing is set-based SQL (``sql/*.sql``, the
steps in COMPUTE_STEPS): one hash-aggregate pass over the ledger per series and window day (the
one-pass on-hand integral), a line-by-line walk only of series that may dip below zero, GROUPING
SETS for every dimension level, then two INSERT ... SELECTs.

Invariants kept here:
- lifecycle draft -> computed -> published -> archived, nothing else (InvalidStateTransition);
  the run row is locked (FOR UPDATE) for every transition, so two computes cannot both win;
- a run is computed once: its snapshots and rollup inputs are inserted in the caller's single
  transaction and never changed afterwards; published (and archived) runs are immutable — to
  recompute, create a new run;
- every snapshot has exactly one rollup input (same name, same dimensions): additive KPIs have
  denominator NULL (roll-up = sum), ratios have both (roll-up = sum(num) / sum(den), rounded to 6);
- an undefined or infinite ratio is stored as NULL, its reason in ``units`` as
  '<unit> (null: <reason>)' (``split_units`` parses it), never as 0.

Raises: NotFound (run, item, location, customer), InvalidInput (unknown KPI or level, bad
dimensions), InvalidStateTransition.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.db import load_sql, local_settings
from lotline.errors import InvalidInput, InvalidStateTransition, NotFound
from lotline.kpis import charts
from lotline.kpis.schemas import DIMENSION_KEYS, KPIS, LEVELS, RunIn
from lotline.models import Customer, Item, KpiRun, Location
from lotline.types import utcnow

TRANSITIONS: dict[str, set[str]] = {
    "draft": {"computed"},
    "computed": {"published"},
    "published": {"archived"},
    "archived": set(),
}

# One computation = these statements, in order, in the caller's transaction. Each of the first
# seven fills a temporary table (ON COMMIT DROP) that is ANALYZEd so the next step is planned on real
# row counts; the ledger (movement lines) is read once by "days", and again by "walk" only for the
# series that may dip below zero — when there are none, "walk" is skipped.
COMPUTE_STEPS: list[tuple[str, str | None, str]] = [
    ("days", "kpi_days", "reading the ledger (one pass)"),
    ("series", "kpi_series", "on-hand integral and stock-out days per series"),
    ("walk", "kpi_walk", "walking series that go negative"),
    ("lot_facts", "kpi_lot_facts", "expiry write-offs and held stock"),
    ("fill", "kpi_fill", "fill rates of order lines due in the window"),
    ("inventory_facts", "kpi_inventory_facts", "per item x location components"),
    ("inputs", "kpi_inputs", "roll-up to every dimension"),
    ("insert_inputs", None, "storing rollup inputs"),
    ("insert_snapshots", None, "storing snapshots"),
]
# Server settings for the computation only (measured on the generated data set, 11.5M ledger lines):
# - work_mem: hashing a year of ledger lines into (series, day) groups wants more than the 4MB
#   default, or the aggregates spill to disk;
# - enable_mergejoin off: the ledger pass joins each line to its window day (a 366-row
#   generate_series); the planner, which cannot estimate that function's join, otherwise sorts all
#   11.5M lines for a merge join (7.7 s, spilling) instead of hashing the 366 days (~5 s);
# - jit off: compiling these few large statements took 0.8-1.5 s each and saved less.
COMPUTE_SETTINGS = {"work_mem": "512MB", "enable_mergejoin": "off", "jit": "off"}
_EMPTY_WALK = (
    "CREATE TEMP TABLE kpi_walk (item_id uuid, location_id uuid, clamped_qty_seconds numeric, "
    "negative_qty_seconds numeric) ON COMMIT DROP"
)


def statement(name: str) -> str:
    """The SQL of one compute step (temporary-table steps wrapped in CREATE TEMP TABLE ... AS)."""
    table = next(t for n, t, _ in COMPUTE_STEPS if n == name)
    body = load_sql("lotline.kpis", name)
    if table is None:
        return body
    if name == "inputs":  # n numbers the rows: ids of the stored rows (see insert_*.sql)
        body = f"SELECT row_number() OVER () AS n, x.* FROM (\n{body}) AS x"
    return f"CREATE TEMP TABLE {table} ON COMMIT DROP AS\n{body}"


def compute_params(run: KpiRun) -> dict[str, Any]:
    """Bind parameters of the compute statements for ``run``."""
    first_due, end_due = due_date_bounds(run.window_start, run.window_end)
    seconds = Decimal(str((run.window_end - run.window_start).total_seconds()))
    days = seconds / 86400
    return {
        "ws": run.window_start,
        "we": run.window_end,
        "as_of": run.as_of,
        "window_seconds": seconds,
        "window_days": days,
        "n_days": int(days.to_integral_value(rounding=ROUND_CEILING)),
        "first_due": first_due,
        "end_due": end_due,
        "run_id": run.id,
    }


_NULL_UNITS = re.compile(r"^(?P<units>.*) \(null: (?P<reason>.*)\)$")


# --- helpers ---------------------------------------------------------------------------------------


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


def due_date_bounds(ws: datetime, we: datetime) -> tuple[date, date]:
    """Due dates whose start (00:00 UTC) lies in [ws, we): [first, end)."""

    def ceil_day(t: datetime) -> date:
        t = t.astimezone(UTC)
        d = t.date()
        return d if t == datetime(d.year, d.month, d.day, tzinfo=UTC) else d + timedelta(days=1)

    return ceil_day(ws), ceil_day(we)


# --- lifecycle -------------------------------------------------------------------------------------


def _lock_run(session: Session, run_id: uuid.UUID | str) -> KpiRun:
    rid = catalog.as_uuid(str(run_id))
    run = None
    if rid is not None:
        # populate_existing: the row may have changed while we waited for the lock.
        run = session.scalar(
            sa.select(KpiRun)
            .where(KpiRun.id == rid)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if run is None:
        raise NotFound(f"unknown KPI run {run_id}", kind="kpi_run", ref=str(run_id))
    return run


def _transition(run: KpiRun, target: str) -> None:
    if target not in TRANSITIONS[run.status]:
        hints = {
            ("draft", "published"): "compute it first",
            ("computed", "computed"): "a run is computed once; create a new run to recompute",
            ("published", "computed"): "published runs are immutable; create a new run to recompute",
            ("archived", "computed"): "archived runs are immutable; create a new run to recompute",
            ("draft", "archived"): "only published runs are archived",
            ("computed", "archived"): "only published runs are archived; publish it first",
        }
        hint = hints.get(
            (run.status, target), f"allowed from {run.status}: {sorted(TRANSITIONS[run.status]) or 'nothing'}"
        )
        raise InvalidStateTransition(
            f"KPI run {run.id} is {run.status} and cannot become {target}: {hint}",
            run_id=str(run.id),
            status=run.status,
            target=target,
        )
    run.status = target


def create_run(session: Session, data: RunIn) -> KpiRun:
    """A draft run for the window; as_of defaults to now."""
    run = KpiRun(
        id=uuid.uuid4(),
        status="draft",
        window_start=data.window_start,
        window_end=data.window_end,
        as_of=data.as_of or utcnow(),
        notes=data.notes,
    )
    session.add(run)
    session.flush()
    return run


def compute_run(
    session: Session, run_id: uuid.UUID | str, *, progress: Callable[[str, int, int], None] | None = None
) -> KpiRun:
    """Compute a draft run's snapshots and rollup inputs (set-based), making it computed.

    Raises NotFound, InvalidStateTransition (not a draft).
    """
    run = _lock_run(session, run_id)
    _transition(run, "computed")
    params = compute_params(run)
    # ON COMMIT DROP removes them at commit; several runs computed in one transaction reuse the names.
    for _name, table, _label in COMPUTE_STEPS:
        if table:
            session.execute(sa.text(f"DROP TABLE IF EXISTS pg_temp.{table}"))
    total = len(COMPUTE_STEPS)
    with local_settings(session, **COMPUTE_SETTINGS):
        for n, (name, table, label) in enumerate(COMPUTE_STEPS, start=1):
            if progress:
                progress(label, n - 1, total)
            if (
                name == "walk"
                and not session.execute(
                    sa.text("SELECT EXISTS (SELECT 1 FROM kpi_series WHERE may_go_negative)")
                ).scalar_one()
            ):
                session.execute(sa.text(_EMPTY_WALK))
                continue
            session.execute(sa.text(statement(name)), params)
            if table:
                session.execute(sa.text(f"ANALYZE {table}"))
    if progress:
        progress("done", total, total)
    session.flush()
    return run


def run_kpis(
    session: Session, data: RunIn, *, progress: Callable[[str, int, int], None] | None = None
) -> KpiRun:
    """Create and compute a run in one go (the CLI's ``kpi run``)."""
    run = create_run(session, data)
    return compute_run(session, run.id, progress=progress)


def publish_run(session: Session, run_id: uuid.UUID | str) -> KpiRun:
    """computed -> published; from then on the run is immutable."""
    run = _lock_run(session, run_id)
    _transition(run, "published")
    session.flush()
    return run


def archive_run(session: Session, run_id: uuid.UUID | str) -> KpiRun:
    """published -> archived (hidden from listings by default)."""
    run = _lock_run(session, run_id)
    _transition(run, "archived")
    session.flush()
    return run


def set_notes(session: Session, run_id: uuid.UUID | str, notes: str | None) -> KpiRun:
    """Change a draft or computed run's notes; published and archived runs are immutable."""
    run = _lock_run(session, run_id)
    if run.status in ("published", "archived"):
        raise InvalidStateTransition(
            f"KPI run {run.id} is {run.status} and immutable; create a new run instead",
            run_id=str(run.id),
            status=run.status,
        )
    run.notes = notes
    session.flush()
    return run


# --- queries ---------------------------------------------------------------------------------------


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

    @property
    def label(self) -> str:
        parts = [p for p in (self.sku, self.location, self.customer) if p]
        return " @ ".join(parts) if parts else "overall"


_SNAPSHOTS = """
SELECT s.kpi_name, s.dimensions, s.value, s.units, r.numerator_qty, r.denominator_qty,
       i.sku, l.code AS location_code, c.code AS customer_code
  FROM kpi_snapshots s
  LEFT JOIN kpi_rollup_inputs r
    ON r.kpi_run_id = s.kpi_run_id AND r.metric_name = s.kpi_name AND r.dimensions = s.dimensions
  LEFT JOIN items i ON i.id = CAST(s.dimensions ->> 'item_id' AS uuid)
  LEFT JOIN locations l ON l.id = CAST(s.dimensions ->> 'location_id' AS uuid)
  LEFT JOIN customers c ON c.id = CAST(s.dimensions ->> 'customer_id' AS uuid)
 WHERE s.kpi_run_id = CAST(:run_id AS uuid)
   {filters}
 ORDER BY s.kpi_name, i.sku NULLS FIRST, l.code NULLS FIRST, c.code NULLS FIRST
 {limit}
"""


def _dim_filters(alias: str, kpi: str | None, dims: dict[str, str], level: str | None) -> tuple[str, dict]:
    clauses, params = [], {}
    if kpi is not None:
        clauses.append(f"AND {alias}.kpi_name = :kpi")
        params["kpi"] = kpi
    if dims:
        # jsonb containment (@>) is what idx_kpi_snapshots_dimensions_gin serves.
        clauses.append(f"AND {alias}.dimensions @> CAST(:dims AS jsonb)")
        params["dims"] = json.dumps(dims)
    if level is not None:
        clauses.append(
            f"AND ARRAY(SELECT jsonb_object_keys({alias}.dimensions) ORDER BY 1) = CAST(:level_keys AS text[])"
        )
        params["level_keys"] = sorted(LEVELS[level])
    return "\n   ".join(clauses), params


def snapshots(
    session: Session,
    run_id: uuid.UUID | str,
    *,
    kpi: str | None = None,
    dimensions: dict[str, Any] | None = None,
    level: str | None = None,
    limit: int | None = None,
) -> list[SnapshotRow]:
    """A run's snapshots with their numerator/denominator, filtered by KPI, containment and level."""
    run = get_run(session, run_id)
    check_kpi(kpi)
    check_level(level)
    dims = check_dimensions(dimensions)
    filters, params = _dim_filters("s", kpi, dims, level)
    sql = _SNAPSHOTS.format(filters=filters, limit=f"LIMIT {int(limit)}" if limit else "")
    rows = session.execute(sa.text(sql), {"run_id": run.id, **params})
    out = []
    for r in rows:
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


@dataclass(frozen=True)
class Comparison:
    kpi_name: str
    dimensions: dict[str, str]
    label: str
    value_a: Decimal | None
    value_b: Decimal | None
    delta: Decimal | None


_COMPARE = """
WITH a AS (SELECT kpi_name, dimensions, value FROM kpi_snapshots s
            WHERE s.kpi_run_id = CAST(:run_a AS uuid) {filters_s}),
     b AS (SELECT kpi_name, dimensions, value FROM kpi_snapshots s
            WHERE s.kpi_run_id = CAST(:run_b AS uuid) {filters_s})
SELECT coalesce(a.kpi_name, b.kpi_name) AS kpi_name,
       coalesce(a.dimensions, b.dimensions) AS dimensions,
       a.value AS value_a, b.value AS value_b, b.value - a.value AS delta,
       i.sku, l.code AS location_code, c.code AS customer_code
  FROM a FULL JOIN b ON a.kpi_name = b.kpi_name AND a.dimensions = b.dimensions
  LEFT JOIN items i ON i.id = CAST(coalesce(a.dimensions, b.dimensions) ->> 'item_id' AS uuid)
  LEFT JOIN locations l ON l.id = CAST(coalesce(a.dimensions, b.dimensions) ->> 'location_id' AS uuid)
  LEFT JOIN customers c ON c.id = CAST(coalesce(a.dimensions, b.dimensions) ->> 'customer_id' AS uuid)
 ORDER BY 1, i.sku NULLS FIRST, l.code NULLS FIRST, c.code NULLS FIRST
"""


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
    filters, params = _dim_filters("s", kpi, dims, level)
    rows = session.execute(
        sa.text(_COMPARE.format(filters_s=filters)), {"run_a": a.id, "run_b": b.id, **params}
    )
    out = []
    for r in rows:
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
    rows = session.execute(
        sa.text(
            """
            SELECT r.id, r.window_start, r.window_end, r.as_of, s.value, s.units
              FROM kpi_runs r
              JOIN kpi_snapshots s ON s.kpi_run_id = r.id
             WHERE r.status = 'published'
               AND s.kpi_name = :kpi
               AND s.dimensions @> CAST(:dims AS jsonb)
               AND s.dimensions = CAST(:dims AS jsonb)
             ORDER BY r.window_end, r.window_start, r.created_at
            """
        ),
        {"kpi": kpi, "dims": json.dumps(dims)},
    )
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
    row = session.execute(
        sa.text(
            """
            SELECT x.num, x.den, CASE WHEN x.den = 0 THEN NULL ELSE round(x.num / x.den, 6) END AS value
              FROM (SELECT coalesce(sum(numerator_qty), 0) AS num, coalesce(sum(denominator_qty), 0) AS den
              FROM kpi_rollup_inputs r
             WHERE r.kpi_run_id = CAST(:run_id AS uuid) AND r.metric_name = :kpi
               AND ARRAY(SELECT jsonb_object_keys(r.dimensions) ORDER BY 1) = CAST(:keys AS text[])) x
            """
        ),
        {"run_id": run.id, "kpi": kpi, "keys": sorted(LEVELS[level])},
    ).one()
    if KPIS[kpi].denominator is None:
        return row.num, None, row.num
    return row.num, row.den, row.value


# --- charts ----------------------------------------------------------------------------------------


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


# --- export ----------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "run_id",
    "kpi",
    "item_id",
    "sku",
    "location_id",
    "location",
    "customer_id",
    "customer",
    "value",
    "units",
    "null_reason",
    "numerator",
    "denominator",
]


def to_csv(run_id: uuid.UUID | str, rows: Iterable[SnapshotRow]) -> str:
    """Snapshots as CSV (one row per KPI and dimension, ids and human keys side by side)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for s in rows:
        d = s.dimensions
        w.writerow(
            [
                str(run_id),
                s.kpi_name,
                d.get("item_id", ""),
                s.sku or "",
                d.get("location_id", ""),
                s.location or "",
                d.get("customer_id", ""),
                s.customer or "",
                "" if s.value is None else f"{s.value:f}",
                s.units or "",
                s.null_reason or "",
                "" if s.numerator is None else f"{s.numerator:f}",
                "" if s.denominator is None else f"{s.denominator:f}",
            ]
        )
    return buf.getvalue()


def kpi_names() -> Sequence[str]:
    return list(KPIS)
