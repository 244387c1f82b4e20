-- Receipts and customer returns of a set of lots up to as_of (where stock entered from outside).
--
-- Parameters: lot_ids uuid[], as_of timestamptz
-- Output: movement_id, movement_type ('receipt' | 'return'), occurred_at, vendor_id, vendor_code,
--         vendor_name, customer_id, customer_code, customer_name, lot_id, vendor_lot_code,
--         location_id, location_code, quantity (signed sum of the lot rows), external_ref
-- Invariants: reversed receipts show with their reversal (a negative receipt row), never hidden.
SELECT m.id AS movement_id, m.movement_type, m.occurred_at,
       m.vendor_id, v.code AS vendor_code, v.name AS vendor_name,
       m.customer_id, c.code AS customer_code, c.name AS customer_name,
       iml.lot_id, l.vendor_lot_code, ml.location_id, loc.code AS location_code,
       sum(iml.quantity_delta) AS quantity, m.external_ref
  FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
  JOIN inventory_movement_lots iml ON iml.lot_id = x.lot_id
  JOIN inventory_movement_lines ml ON ml.id = iml.inventory_movement_line_id
  JOIN inventory_movements m ON m.id = ml.movement_id
  JOIN lots l ON l.id = iml.lot_id
  JOIN locations loc ON loc.id = ml.location_id
  LEFT JOIN vendors v ON v.id = m.vendor_id
  LEFT JOIN customers c ON c.id = m.customer_id
 WHERE m.movement_type IN ('receipt', 'return')
   AND m.occurred_at <= %(as_of)s::timestamptz
 GROUP BY m.id, m.movement_type, m.occurred_at, m.vendor_id, v.code, v.name, m.customer_id, c.code,
          c.name, iml.lot_id, l.vendor_lot_code, ml.location_id, loc.code, m.external_ref
