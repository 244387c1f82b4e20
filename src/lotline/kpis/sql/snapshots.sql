-- Purpose: a stored run's snapshots with their roll-up numerator/denominator and the human keys
--          (SKU, location code, customer code) of their dimensions.
-- Parameters: run_id (uuid); kpi (text, NULL = every KPI); dims (jsonb, NULL = any; a snapshot
--   matches when its dimensions contain it); level_keys (text[], NULL = any level; otherwise the
--   sorted key set of the level's dimensions); row_limit (bigint, NULL = no limit); a page's
--   position: after_kpi, after_sku, after_location, after_customer (text, '' for none), after_id
--   (uuid) — the sort key of the previous page's last row, or all NULL for the first page.
-- Output: id, kpi_name, dimensions, value, units, numerator_qty, denominator_qty, sku,
--   location_code, customer_code; ordered by KPI then SKU, location, customer (overall first:
--   a missing code sorts as ''), then id, so the order is total and a position names one row.
-- Invariants: the filters given as NULL fold away when the statement is planned with its
--   parameters; dims uses jsonb containment, which idx_kpi_snapshots_dimensions_gin serves.
SELECT s.id, s.kpi_name, s.dimensions, s.value, s.units, r.numerator_qty, r.denominator_qty,
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
   AND (%(after_id)s::uuid IS NULL
        OR (s.kpi_name, coalesce(i.sku, ''), coalesce(l.code, ''), coalesce(c.code, ''), s.id)
           > (%(after_kpi)s::text, %(after_sku)s::text, %(after_location)s::text, %(after_customer)s::text,
              %(after_id)s::uuid))
 ORDER BY s.kpi_name, coalesce(i.sku, ''), coalesce(l.code, ''), coalesce(c.code, ''), s.id
 LIMIT %(row_limit)s::bigint
