-- Purpose: two runs side by side, matched on KPI and exact dimensions (delta = b - a).
-- Parameters: run_a, run_b (uuid); kpi (text, NULL = every KPI); dims (jsonb, NULL = any,
--   containment); level_keys (text[], NULL = any level; the sorted key set of the level).
-- Output: kpi_name, dimensions, value_a, value_b, delta, sku, location_code, customer_code; a
--   snapshot present in one run only has NULL on the other side.
WITH a AS (SELECT kpi_name, dimensions, value FROM kpi_snapshots s
            WHERE s.kpi_run_id = %(run_a)s::uuid
              AND (%(kpi)s::text IS NULL OR s.kpi_name = %(kpi)s::text)
              AND (%(dims)s::jsonb IS NULL OR s.dimensions @> %(dims)s::jsonb)
              AND (%(level_keys)s::text[] IS NULL
                   OR ARRAY(SELECT jsonb_object_keys(s.dimensions) ORDER BY 1) = %(level_keys)s::text[])),
     b AS (SELECT kpi_name, dimensions, value FROM kpi_snapshots s
            WHERE s.kpi_run_id = %(run_b)s::uuid
              AND (%(kpi)s::text IS NULL OR s.kpi_name = %(kpi)s::text)
              AND (%(dims)s::jsonb IS NULL OR s.dimensions @> %(dims)s::jsonb)
              AND (%(level_keys)s::text[] IS NULL
                   OR ARRAY(SELECT jsonb_object_keys(s.dimensions) ORDER BY 1) = %(level_keys)s::text[]))
SELECT coalesce(a.kpi_name, b.kpi_name) AS kpi_name,
       coalesce(a.dimensions, b.dimensions) AS dimensions,
       a.value AS value_a, b.value AS value_b, b.value - a.value AS delta,
       i.sku, l.code AS location_code, c.code AS customer_code
  FROM a FULL JOIN b ON a.kpi_name = b.kpi_name AND a.dimensions = b.dimensions
  LEFT JOIN items i ON i.id = CAST(coalesce(a.dimensions, b.dimensions) ->> 'item_id' AS uuid)
  LEFT JOIN locations l ON l.id = CAST(coalesce(a.dimensions, b.dimensions) ->> 'location_id' AS uuid)
  LEFT JOIN customers c ON c.id = CAST(coalesce(a.dimensions, b.dimensions) ->> 'customer_id' AS uuid)
 ORDER BY 1, i.sku NULLS FIRST, l.code NULLS FIRST, c.code NULLS FIRST
