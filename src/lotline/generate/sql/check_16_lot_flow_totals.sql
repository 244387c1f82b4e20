-- Invariant: the derived lot_flow_totals table holds exactly the totals of its defining view
-- (lot_flow_totals_source) per lot, location, movement type, direction and receipt/return
-- movement: the same quantities, lot row counts and latest times, no key missing or extra.
-- Output: violations bigint, sample text
WITH bad AS (
    (SELECT lot_id, location_id, movement_type, increase, movement_id, quantity, lot_rows, last_occurred_at
       FROM lot_flow_totals_source
     EXCEPT ALL
     SELECT lot_id, location_id, movement_type, increase, movement_id, quantity, lot_rows, last_occurred_at
       FROM lot_flow_totals)
    UNION ALL
    (SELECT lot_id, location_id, movement_type, increase, movement_id, quantity, lot_rows, last_occurred_at
       FROM lot_flow_totals
     EXCEPT ALL
     SELECT lot_id, location_id, movement_type, increase, movement_id, quantity, lot_rows, last_occurred_at
       FROM lot_flow_totals_source)
)
SELECT count(*), string_agg(lot_id::text || '@' || location_id::text || ' ' || movement_type, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT lot_id, location_id, movement_type, row_number() OVER () AS rn FROM bad) b
