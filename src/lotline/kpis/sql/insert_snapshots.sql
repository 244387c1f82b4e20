-- Purpose: store every KPI value for run run_id.
-- Parameters: run_id (uuid).
-- Ids: kpi_inputs.id = the run id's first 24 characters + the row's number (runs._body "inputs"),
--   the same for a snapshot and its rollup input; ascending within a run, so primary key inserts
--   append instead of landing on random index pages.
-- Invariants: value = num when den IS NULL (additive), round(num/den, 6) otherwise; an undefined
--   (0/0) or infinite (x/0) ratio is stored as NULL with units '<unit> (null: <reason>)', never 0.
INSERT INTO kpi_snapshots (id, kpi_run_id, kpi_name, dimensions, value, units)
SELECT i.id,
       %(run_id)s::uuid,
       i.metric,
       i.dimensions,
       CASE WHEN i.den IS NULL THEN i.num
            WHEN i.den = 0 THEN NULL
            ELSE round(i.num / i.den, 6) END,
       CASE WHEN i.den = 0
            THEN i.units || ' (null: ' || CASE WHEN i.num = 0 THEN i.if_zero ELSE i.if_infinite END || ')'
            ELSE i.units END
  FROM kpi_inputs i;
