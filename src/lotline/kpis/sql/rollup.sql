-- Purpose: roll one KPI of a run up over the rollup inputs of one dimension level.
-- Parameters: run_id (uuid); kpi (text); keys (text[], the sorted key set of the level).
-- Output: one row: num = sum(numerator), den = sum(denominator), value = round(num / den, 6),
--   NULL when den = 0 — computed exactly as the stored coarser snapshots were.
SELECT x.num, x.den, CASE WHEN x.den = 0 THEN NULL ELSE round(x.num / x.den, 6) END AS value
  FROM (SELECT coalesce(sum(numerator_qty), 0) AS num, coalesce(sum(denominator_qty), 0) AS den
          FROM kpi_rollup_inputs r
         WHERE r.kpi_run_id = %(run_id)s::uuid AND r.metric_name = %(kpi)s::text
           AND ARRAY(SELECT jsonb_object_keys(r.dimensions) ORDER BY 1) = %(keys)s::text[]) x
