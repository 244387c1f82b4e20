-- What a customer may still return of some lots, from the ledger: shipped to them (shipment
-- movements naming the customer, sales-order shipments and direct ones alike) by a point in time,
-- and returned so far (net of reversed returns, which are return movements with negative lot rows).
-- Takes a transaction advisory lock per (customer, lot) first, in the order of lots (sorted by
-- the caller), so concurrent returns of one lot by one customer are checked one after the other.
-- Parameters: customer_id uuid, lots uuid[] (sorted), occurred_at timestamptz (the return's time).
-- Output: lot_id, shipped numeric, returned numeric — one row per lot in lots.
WITH locked AS MATERIALIZED (
    SELECT k.lot_id,
           pg_advisory_xact_lock(hashtextextended('return:' || %(customer_id)s::text || ':' || k.lot_id::text, 0))
      FROM unnest(%(lots)s::uuid[]) WITH ORDINALITY AS k(lot_id, n)
), flows AS (
    SELECT iml.lot_id,
           -sum(iml.quantity_delta) FILTER (WHERE ml.movement_type = 'shipment'
                                              AND ml.occurred_at <= %(occurred_at)s::timestamptz) AS shipped,
           sum(iml.quantity_delta) FILTER (WHERE ml.movement_type = 'return') AS returned
      FROM locked l
      JOIN inventory_movement_lots iml ON iml.lot_id = l.lot_id
      JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
      JOIN inventory_movements m ON m.id = ml.movement_id
     WHERE ml.movement_type IN ('shipment', 'return') AND m.customer_id = %(customer_id)s::uuid
     GROUP BY iml.lot_id
)
SELECT l.lot_id, COALESCE(f.shipped, 0) AS shipped, COALESCE(f.returned, 0) AS returned
  FROM locked l LEFT JOIN flows f ON f.lot_id = l.lot_id
