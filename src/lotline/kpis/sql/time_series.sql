-- Purpose: one KPI for one exact dimension across the published runs.
-- Parameters: kpi (text); dims (jsonb, the exact dimensions; {} = overall).
-- Output: id, window_start, window_end, as_of, value, units; ordered by window, then creation.
-- Invariants: containment (@>) lets idx_kpi_snapshots_dimensions_gin find the candidates, the
--   equality keeps only the exact dimension (not its finer levels).
SELECT r.id, r.window_start, r.window_end, r.as_of, s.value, s.units
  FROM kpi_runs r
  JOIN kpi_snapshots s ON s.kpi_run_id = r.id
 WHERE r.status = 'published'
   AND s.kpi_name = %(kpi)s::text
   AND s.dimensions @> %(dims)s::jsonb
   AND s.dimensions = %(dims)s::jsonb
 ORDER BY r.window_end, r.window_start, r.created_at
