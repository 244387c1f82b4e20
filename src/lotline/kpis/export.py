"""A stored run's snapshots as CSV: one row per KPI and dimension, ids and human keys side by side.

Pure: takes the rows ``queries.snapshots`` returned, touches no database. Values print in full
(``Decimal`` ``:f``); a NULL value prints empty with its reason in ``null_reason``. Text cells go
through ``reports.csv_safe`` (no spreadsheet formula injection).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable

from lotline.kpis.queries import SnapshotRow
from lotline.reports import csv_safe

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
        # SKUs, location and customer codes come from users: no cell may reach a spreadsheet as a
        # formula (numbers, negative ones included, stay numbers).
        cells = (
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
        w.writerow([csv_safe.value_cell(c) for c in cells])
    return buf.getvalue()
