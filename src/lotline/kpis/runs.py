"""KPI run lifecycle and computation: reproducible, append-only snapshots with exact roll-ups.

A run measures the half-open window [window_start, window_end) from the ledger as it was recorded
at ``as_of``: movements, orders and shipments whose ``created_at`` is after ``as_of`` are ignored
(``created_at`` = when the fact was recorded, so a backdated posting entered later cannot change a
rerun; ``occurred_at`` places a movement in time). Computing is set-based SQL (``sql/*.sql``, the
steps in COMPUTE_STEPS): one hash-aggregate pass over the ledger per series and window day (the
one-pass on-hand integral), a line-by-line walk only of series that may dip below zero, GROUPING
SETS for every dimension level, then both INSERT ... SELECTs (one statement).

Invariants kept here:
- lifecycle draft -> computed -> published -> archived, nothing else (InvalidStateTransition);
  the run row is locked (FOR UPDATE) for every transition, so two computes cannot both win;
- a run is computed once: its snapshots and rollup inputs are inserted in the caller's single
  transaction and never changed afterwards; published (and archived) runs are immutable — to
  recompute, create a new run;
- every snapshot has exactly one rollup input (same name, same dimensions): additive KPIs have
  denominator NULL (roll-up = sum), ratios have both (roll-up = sum(num) / sum(den), rounded to 6);
- an undefined or infinite ratio is stored as NULL, its reason in ``units`` as
  '<unit> (null: <reason>)' (``queries.split_units`` parses it), never as 0.

Raises: NotFound (run), InvalidStateTransition.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.auth import signatures
from lotline.auth.schemas import SignatureIn
from lotline.catalog import service as catalog
from lotline.db import local_settings, sql
from lotline.errors import InvalidStateTransition, NotFound
from lotline.kpis.schemas import RunIn
from lotline.models import KpiRun
from lotline.types import utcnow

_PKG = "lotline.kpis"

TRANSITIONS: dict[str, set[str]] = {
    "draft": {"computed"},
    "computed": {"published"},
    "published": {"archived"},
    "archived": set(),
}

# The parts of a computation: name -> (temporary table it fills, or None for the final store). Each
# temporary table is ON COMMIT DROP. "days" reads the derived per-day ledger sums (kpi_ledger_days,
# days_derived.sql) when the window is whole UTC days, else every line once (days.sql); for whole
# days a run's "series" step is series_derived.sql instead, the same rows as series.sql over
# days_derived.sql in one pass over the derived sums (tests/kpis/test_ledger_days*.py); "walk" reads
# the lines of the series that may dip below zero; "fill" reads the derived monthly fill sums
# (kpi_line_fill_months / kpi_order_fill_months, fill.sql) when the window is whole UTC months (the
# fill rows only for month-spanning orders at its boundaries and buckets changed after as_of), else
# the fill rows (fill_lines.sql; fill.sql answers any window exactly, but with edge days it reads
# their lines one by one and was slower than the plain scan on the benchmark data: 10-12 s vs 4-7 s).
PARTS: dict[str, str | None] = {
    "days": "kpi_days",
    "series": "kpi_series",
    "walk": "kpi_walk",
    "lot_facts": "kpi_lot_facts",
    "fill": "kpi_fill",
    "inventory_facts": "kpi_inventory_facts",
    "inputs": "kpi_inputs",
    "store": None,
}
# One computation = these statements, in order, in the caller's transaction (name, temporary table
# it fills, progress label). Parts that only one statement reads are inlined into it as a CTE
# instead of becoming a table of their own: "series" holds the ledger pass (days), "store" the
# per-series components, the roll-up to every dimension and both INSERT ... SELECTs (one statement,
# one read of the roll-up). The temporary tables later steps join are ANALYZEd (ANALYZED) so those
# are planned on real row counts; when no series may go below zero, "walk" is the empty table
# (walk_empty.sql).
COMPUTE_STEPS: list[tuple[str, str | None, str]] = [
    ("series", "kpi_series", "reading the ledger: on-hand integral and stock-out days per series"),
    ("walk", "kpi_walk", "walking series that go negative"),
    ("lot_facts", "kpi_lot_facts", "expiry write-offs and held stock"),
    ("fill", "kpi_fill", "fill rates of order lines due in the window (derived month sums, or the lines)"),
    ("store", None, "rolling up to every dimension and storing rollup inputs and snapshots"),
]
COMPUTE_SETTINGS = {"work_mem": "512MB", "enable_mergejoin": "off", "jit": "off"}
# The temporary tables a later step joins or groups, ANALYZEd so that step is planned on real row
# counts. Not kpi_fill: the store only appends its rows to the inventory ones (UNION ALL, no join),
# so its statistics cannot change a plan, and sampling its jsonb dimensions was half the fill
# step's time (scale 300: ~50 ms of ~100 ms per run, more with more customers).
ANALYZED = {"kpi_series", "kpi_walk", "kpi_lot_facts"}


def window(run: KpiRun) -> tuple[datetime, datetime]:
    """The run's [start, end): every run lotline creates has one (the frozen columns allow NULL)."""
    if run.window_start is None or run.window_end is None:
        raise InvalidStateTransition(f"KPI run {run.id} has no window; it cannot be computed", run_id=str(run.id))
    return run.window_start, run.window_end


def whole_days(run: KpiRun) -> bool:
    """Whether the window starts and ends at 00:00 UTC (its days are UTC days)."""
    utc = [t.astimezone(UTC) for t in window(run)]
    return all(t == t.replace(hour=0, minute=0, second=0, microsecond=0) for t in utc)


def whole_months(run: KpiRun) -> bool:
    """Whether the window starts and ends at 00:00 UTC on the 1st of a month."""
    return whole_days(run) and all(t.astimezone(UTC).day == 1 for t in window(run))


def _sql(name: str) -> str:
    """A file's statement without its trailing semicolon (it is composed into a larger one)."""
    return sql.load_sql(_PKG, name).rstrip().removesuffix(";")


def _body(name: str, *, derived: bool, months: bool) -> str:
    """The SELECT of one part, with the parts it reads inlined (see COMPUTE_STEPS)."""
    if name == "days":
        return _sql("days_derived" if derived else "days")
    if name == "fill":
        return _sql("fill" if months else "fill_lines")
    if name == "series":
        if derived:  # one pass over the derived day sums (series_derived.sql: same rows as below)
            return _sql("series_derived")
        days = _body("days", derived=derived, months=months)
        return f"WITH kpi_days AS MATERIALIZED (\n{days}\n)\nSELECT * FROM (\n{_sql('series')}\n) AS s"
    if name == "inputs":  # id: of both stored rows (see insert_*.sql), computed once for the two
        return (
            "SELECT CAST(left(%(run_id)s::text, 24) || lpad(to_hex(row_number() OVER ()), 12, '0') AS uuid) AS id,"
            f" x.* FROM (\n{_sql('inputs')}\n) AS x"
        )
    if name == "store":
        facts = _body("inventory_facts", derived=derived, months=months)
        inputs = _body("inputs", derived=derived, months=months)
        return (
            f"WITH kpi_inventory_facts AS MATERIALIZED (\n{facts}\n),\n"
            f"kpi_inputs AS MATERIALIZED (\n{inputs}\n),\n"
            f"stored_inputs AS (\n{_sql('insert_inputs')}\n)\n"
            f"{_sql('insert_snapshots')}"
        )
    return _sql(name)


def statement(name: str, *, derived: bool = False, months: bool = False) -> str:
    """The SQL of one part (PARTS; temporary-table parts wrapped in CREATE TEMP TABLE ... AS).

    ``derived``: the ledger pass reads the derived sums (kpi_ledger_days: days_derived.sql, and for
    "series" series_derived.sql) instead of every line; only for windows of whole UTC days
    (``whole_days``), with the same result.
    ``months``: fill rates read the derived monthly fill sums (fill.sql) instead of every fill row
    (fill_lines.sql); for windows of whole UTC months (``whole_months``), with the same result.
    """
    table = PARTS[name]
    body = _body(name, derived=derived, months=months)
    if table is None:
        return body
    return f"CREATE TEMP TABLE {table} ON COMMIT DROP AS\n{body}"


def due_date_bounds(ws: datetime, we: datetime) -> tuple[date, date]:
    """Due dates whose start (00:00 UTC) lies in [ws, we): [first, end)."""

    def ceil_day(t: datetime) -> date:
        t = t.astimezone(UTC)
        d = t.date()
        return d if t == datetime(d.year, d.month, d.day, tzinfo=UTC) else d + timedelta(days=1)

    return ceil_day(ws), ceil_day(we)


def _next_month(d: date) -> date:
    return date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)


def compute_params(run: KpiRun) -> dict[str, Any]:
    """Bind parameters of the compute statements for ``run``."""
    ws, we = window(run)
    first_due, end_due = due_date_bounds(ws, we)
    seconds = Decimal(str((we - ws).total_seconds()))
    days = seconds / 86400
    return {
        "ws": ws,
        "we": we,
        "as_of": run.as_of,
        "window_seconds": seconds,
        "window_days": days,
        "n_days": int(days.to_integral_value(rounding=ROUND_CEILING)),
        "first_due": first_due,
        "end_due": end_due,
        # whole months of due dates inside the window (fill.sql reads their derived sums)
        "first_full": first_due if first_due.day == 1 else _next_month(first_due),
        "end_full": end_due.replace(day=1),
        "run_id": run.id,
    }


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


_HINTS = {
    ("draft", "published"): "compute it first",
    ("computed", "computed"): "a run is computed once; create a new run to recompute",
    ("published", "computed"): "published runs are immutable; create a new run to recompute",
    ("archived", "computed"): "archived runs are immutable; create a new run to recompute",
    ("draft", "archived"): "only published runs are archived",
    ("computed", "archived"): "only published runs are archived; publish it first",
}


def _transition(run: KpiRun, target: str) -> None:
    if target not in TRANSITIONS[run.status]:
        hint = _HINTS.get(
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
    derived, months = whole_days(run), whole_months(run)
    # ON COMMIT DROP removes them at commit; several runs computed in one transaction reuse the names.
    tables = ", ".join(f"pg_temp.{t}" for t in PARTS.values() if t)
    sql.execute(session, f"DROP TABLE IF EXISTS {tables}")
    total = len(COMPUTE_STEPS)
    with local_settings(session, **COMPUTE_SETTINGS):
        for n, (name, table, label) in enumerate(COMPUTE_STEPS, start=1):
            if progress:
                progress(label, n - 1, total)
            if name == "walk" and not sql.scalar(session, sql.load_sql(_PKG, "walk_needed"), {}):
                sql.execute(session, sql.load_sql(_PKG, "walk_empty"), {})
                continue
            sql.execute(session, statement(name, derived=derived, months=months), params)
            if table in ANALYZED:
                sql.execute(session, f"ANALYZE {table}")
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


def publish_run(session: Session, run_id: uuid.UUID | str, signature: SignatureIn | None = None) -> KpiRun:
    """computed -> published; from then on the run is immutable. Needs the actor's electronic
    signature (InvalidInput without one, SignatureRefused for a wrong password)."""
    run = _lock_run(session, run_id)
    _transition(run, "published")
    signature = signatures.require_signature(signature, "kpi.publish", f"publishing KPI run {run.id}")
    session.flush()
    signatures.sign(session, signature, "kpi.publish", "kpi_runs", run.id)
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
