-- Invariant: no lot is ever negative at any location, replaying the ledger in time order. The
-- ledger is read per instant: every movement at the same occurred_at counts together (the stock at
-- t is what all postings up to and including t leave), so movements at one instant have no order.
-- Output: violations bigint (lot/location pairs that dip below zero), sample text
WITH rows AS (
    SELECT iml.lot_id, ml.location_id, m.occurred_at,
           sum(iml.quantity_delta) AS q
      FROM inventory_movement_lots iml
      JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
      JOIN inventory_movements m ON m.id = ml.movement_id
     GROUP BY iml.lot_id, ml.location_id, m.occurred_at
), running AS (
    SELECT lot_id, location_id,
           sum(q) OVER (PARTITION BY lot_id, location_id ORDER BY occurred_at
                        ROWS UNBOUNDED PRECEDING) AS balance
      FROM rows
), bad AS (
    SELECT lot_id, location_id FROM running WHERE balance < 0 GROUP BY lot_id, location_id
)
SELECT count(*), string_agg(lot_id::text || '@' || location_id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT *, row_number() OVER () AS rn FROM bad) b
