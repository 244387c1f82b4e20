-- Purpose: store every KPI's numerator/denominator for run run_id (roll-up rule in inputs.sql).
-- Parameters: run_id (uuid).
-- Ids: the run id's first 24 characters + the row number (kpi_inputs.n): ascending within a run,
--   so primary key inserts append instead of landing on random index pages.
INSERT INTO kpi_rollup_inputs (id, kpi_run_id, metric_name, dimensions, numerator_qty, denominator_qty)
SELECT CAST(left(%(run_id)s::text, 24) || lpad(to_hex(i.n), 12, '0') AS uuid), %(run_id)s::uuid, i.metric, i.dimensions, i.num, i.den
  FROM kpi_inputs i;
