-- Invariant: the derived kpi_ledger_days table holds exactly the sums of its defining view
-- (kpi_ledger_days_source) per item, location, UTC day, type and direction, and its
-- last_recorded_at is never earlier than the latest recording time of the bucket's lines (an upper
-- bound: a deleted line does not lower it).
-- Output: violations bigint, sample text
WITH bad AS (
    (SELECT item_id, location_id, day, movement_type, increase, quantity, quantity_epoch, lines
       FROM kpi_ledger_days_source
     EXCEPT ALL
     SELECT item_id, location_id, day, movement_type, increase, quantity, quantity_epoch, lines
       FROM kpi_ledger_days)
    UNION ALL
    (SELECT item_id, location_id, day, movement_type, increase, quantity, quantity_epoch, lines
       FROM kpi_ledger_days
     EXCEPT ALL
     SELECT item_id, location_id, day, movement_type, increase, quantity, quantity_epoch, lines
       FROM kpi_ledger_days_source)
    UNION ALL
    SELECT d.item_id, d.location_id, d.day, d.movement_type, d.increase, d.quantity, d.quantity_epoch, d.lines
      FROM kpi_ledger_days d
      JOIN kpi_ledger_days_source s USING (item_id, location_id, day, movement_type, increase)
     WHERE d.last_recorded_at < s.last_recorded_at
)
SELECT count(*), string_agg(item_id::text || '@' || location_id::text || ' ' || day::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT item_id, location_id, day, row_number() OVER () AS rn FROM bad) b
