-- Purpose: a stored run's snapshots with their roll-up numerator/denominator and the human keys
--          (SKU, location code, customer code) of their dimensions.
-- Parameters: run_id (uuid); kpi (text, NULL = every KPI); dims (jsonb, NULL = any; a snapshot
--   matches when its dimensions contain it); level_keys (text[], NULL = any level; otherwise the
--   sorted key set of the level's dimensions); row_limit (bigint, NULL = no limit).
-- Output: kpi_name, dimensions, value, units, numerator_qty, denominator_qty, sku, location_code,
--   customer_code; ordered by KPI then SKU, location, customer (overall first).
-- Invariants: the filters given as NULL fold away when the statement is planned with its
--   parameters; dims uses jsonb containment, which idx_kpi_snapshots_dimensions_gin serves.
SELECT s.kpi_name, s.dimensions, s.value, s.units, r.numerator_qty, r.denominator_qty,
       i.sku, l.code AS location_code, c.code AS customer_code
  FROM kpi_snapshots s
  LEFT JOIN kpi_rollup_inputs r
    ON r.kpi_run_id = s.kpi_run_id AND r.metric_name = s.kpi_name AND r.dimensions = s.dimensions
  LEFT JOIN items i ON i.id = CAST(s.dimensions ->> 'item_id' AS uuid)
  LEFT JOIN locations l ON l.id = CAST(s.dimensions ->> 'location_id' AS uuid)
  LEFT JOIN customers c ON c.id = CAST(s.dimensions ->> 'customer_id' AS uuid)
 WHERE s.kpi_run_id = %(run_id)s::uuid
   AND (%(kpi)s::text IS NULL OR s.kpi_name = %(kpi)s::text)
   AND (%(dims)s::jsonb IS NULL OR s.dimensions @> %(dims)s::jsonb)
   AND (%(level_keys)s::text[] IS NULL
        OR ARRAY(SELECT jsonb_object_keys(s.dimensions) ORDER BY 1) = %(level_keys)s::text[])
 ORDER BY s.kpi_name, i.sku NULLS FIRST, l.code NULLS FIRST, c.code NULLS FIRST
 LIMIT %(row_limit)s::bigint
