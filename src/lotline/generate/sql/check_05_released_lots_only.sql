-- Invariant: only unexpired lots are shipped or consumed, and a consumed lot holds nothing.
-- (Whether a lot was on hold when it shipped needs its status history; blocking or quarantining a
-- lot does not move its stock, so held stock may sit anywhere — the rules only stop it leaving.)
-- Output: violations bigint, sample text
WITH bad AS (
    SELECT 'expired ' || iml.lot_id::text AS what
      FROM inventory_movement_lots iml
      JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
      JOIN inventory_movements m ON m.id = ml.movement_id
      JOIN lots l ON l.id = iml.lot_id
     WHERE m.movement_type IN ('shipment', 'production_consume')
       AND l.expires_at IS NOT NULL AND l.expires_at <= m.occurred_at
    UNION ALL
    SELECT 'consumed ' || b.lot_id::text
      FROM inventory_balances b
      JOIN lots l ON l.id = b.lot_id
     WHERE b.quantity <> 0 AND l.status = 'consumed'
)
SELECT count(*), string_agg(what, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT what, row_number() OVER () AS rn FROM bad) b
