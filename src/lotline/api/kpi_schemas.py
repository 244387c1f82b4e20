"""Response models of the KPI routes (``api/routers/kpis.py``): the catalogue, runs, snapshots,
comparisons and series, as ``lotline.kpis`` returns them. Values, numerators and denominators are
``DecimalText``; a value is null with a ``null_reason`` when it is undefined (never 0)."""

from __future__ import annotations

import uuid
from datetime import datetime

from lotline.api.schemas import Out, SignatureOut
from lotline.serialize import DecimalText
from lotline.vocab import KpiRunStatus


class KpiDefinition(Out):
    """A KPI of the catalogue: the dimension levels it is computed at, its unit and its ratio."""

    name: str
    levels: list[str]
    units: str
    numerator: str
    denominator: str | None
    definition: str


class KpiRunOut(Out):
    """A KPI run over the half-open window [window_start, window_end) as of ``as_of``."""

    id: uuid.UUID
    status: KpiRunStatus
    window_start: datetime
    window_end: datetime
    as_of: datetime
    notes: str | None
    created_at: datetime


class KpiRunDetail(KpiRunOut):
    signatures: list[SignatureOut]


class SnapshotOut(Out):
    """One KPI value at one dimension (``label``: sku @ location @ customer, or overall)."""

    kpi: str
    dimensions: dict[str, str]
    label: str
    value: DecimalText | None
    units: str | None
    null_reason: str | None
    numerator: DecimalText | None
    denominator: DecimalText | None


class ComparisonOut(Out):
    """One KPI at one dimension in two runs; ``delta`` = b - a."""

    kpi_name: str
    dimensions: dict[str, str]
    label: str
    value_a: DecimalText | None
    value_b: DecimalText | None
    delta: DecimalText | None


class SeriesPointOut(Out):
    """One KPI at one dimension in one published run."""

    run_id: uuid.UUID
    window_start: datetime
    window_end: datetime
    as_of: datetime
    value: DecimalText | None
    units: str | None
    null_reason: str | None
