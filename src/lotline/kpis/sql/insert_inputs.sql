-- Purpose: store every KPI's numerator/denominator for run :run_id (roll-up rule in inputs.sql).
-- Parameters: :run_id (uuid).
INSERT INTO kpi_rollup_inputs (id, kpi_run_id, metric_name, dimensions, numerator_qty, denominator_qty)
SELECT gen_random_uuid(), CAST(:run_id AS uuid), i.metric, i.dimensions, i.num, i.den
  FROM kpi_inputs i;
