-- Invariant: the derived kpi_scrap_lots table holds exactly the rows of its defining view
-- (kpi_scrap_lots_source): every lot row of a scrap line, once, with its line's item, location,
-- occurred_at and created_at, its quantity and its lot's current expires_at — nothing else.
-- Output: violations bigint, sample text
WITH bad AS (
    (SELECT * FROM kpi_scrap_lots_source
     EXCEPT ALL
     SELECT * FROM kpi_scrap_lots)
    UNION ALL
    (SELECT * FROM kpi_scrap_lots
     EXCEPT ALL
     SELECT * FROM kpi_scrap_lots_source)
)
SELECT count(*), string_agg(inventory_movement_lot_id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT inventory_movement_lot_id, row_number() OVER () AS rn FROM bad) b
