"""The KPI service façade: one import for the front ends (``from lotline.kpis import service``).

Thin and explicit — it defines nothing, it re-exports. The work lives in:

- ``runs.py``       lifecycle (draft -> computed -> published -> archived) and the set-based compute
                    (``sql/*.sql``, the steps in ``COMPUTE_STEPS``); its docstring states the invariants;
- ``queries.py``    reading stored runs: listings, snapshots, comparisons, series, roll-ups, checks;
- ``export.py``     snapshots as CSV (pure);
- ``run_charts.py`` charts of stored runs, rendered by the pure SVG code in ``charts.py``;
- ``schemas.py``    the KPI catalogue (``KPIS``, ``LEVELS``) and the run input schema.
"""

from __future__ import annotations

from lotline.kpis.export import CSV_COLUMNS, to_csv
from lotline.kpis.queries import (
    Comparison,
    SeriesPoint,
    SnapshotRow,
    check_dimensions,
    check_kpi,
    check_level,
    compare,
    dimensions_for,
    get_run,
    kpi_names,
    list_runs,
    rollup,
    round_ratio,
    run_row,
    snapshot_row,
    snapshots,
    split_units,
    time_series,
)
from lotline.kpis.run_charts import run_chart, series_chart
from lotline.kpis.runs import (
    COMPUTE_SETTINGS,
    COMPUTE_STEPS,
    TRANSITIONS,
    archive_run,
    compute_params,
    compute_run,
    create_run,
    due_date_bounds,
    publish_run,
    run_kpis,
    set_notes,
    statement,
)
from lotline.kpis.schemas import KPIS, LEVELS

__all__ = [
    "COMPUTE_SETTINGS",
    "COMPUTE_STEPS",
    "CSV_COLUMNS",
    "KPIS",
    "LEVELS",
    "TRANSITIONS",
    "Comparison",
    "SeriesPoint",
    "SnapshotRow",
    "archive_run",
    "check_dimensions",
    "check_kpi",
    "check_level",
    "compare",
    "compute_params",
    "compute_run",
    "create_run",
    "dimensions_for",
    "due_date_bounds",
    "get_run",
    "kpi_names",
    "list_runs",
    "publish_run",
    "rollup",
    "round_ratio",
    "run_chart",
    "run_kpis",
    "run_row",
    "series_chart",
    "set_notes",
    "snapshot_row",
    "snapshots",
    "split_units",
    "statement",
    "time_series",
    "to_csv",
]
