-- Purpose: store every KPI's numerator/denominator for run run_id (roll-up rule in inputs.sql).
-- Parameters: run_id (uuid).
-- Ids: kpi_inputs.id = the run id's first 24 characters + the row's number (runs._body "inputs"),
--   the same for a snapshot and its rollup input; ascending within a run, so primary key inserts
--   append instead of landing on random index pages.
INSERT INTO kpi_rollup_inputs (id, kpi_run_id, metric_name, dimensions, numerator_qty, denominator_qty)
SELECT i.id, %(run_id)s::uuid, i.metric, i.dimensions, i.num, i.den
  FROM kpi_inputs i;
