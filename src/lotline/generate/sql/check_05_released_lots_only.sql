-- Invariant: only unexpired lots are shipped or consumed (status history is not stored, so the
-- status part is checked on the current state: stock of a lot that is not active or consumed sits
-- only in quarantine or scrap locations, and a consumed lot holds nothing).
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
    SELECT 'held ' || b.lot_id::text
      FROM inventory_balances b
      JOIN lots l ON l.id = b.lot_id
      JOIN locations loc ON loc.id = b.location_id
     WHERE b.quantity > 0 AND l.status IN ('quarantine', 'blocked', 'expired')
       AND loc.kind NOT IN ('quarantine', 'scrap')
    UNION ALL
    SELECT 'consumed ' || b.lot_id::text
      FROM inventory_balances b
      JOIN lots l ON l.id = b.lot_id
     WHERE b.quantity <> 0 AND l.status = 'consumed'
)
SELECT count(*), string_agg(what, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT what, row_number() OVER () AS rn FROM bad) b
