-- Invariant: the derived lot_shipments table holds exactly one row per (lot, shipment) reached
-- through shipment_lot_links, with the summed quantity and the shipment's order, customer and time.
-- Output: violations bigint, sample text
WITH expected AS (
    SELECT iml.lot_id, s.id AS shipment_id, s.sales_order_id, so.number, s.customer_id, s.shipped_at,
           -sum(iml.quantity_delta) AS quantity
      FROM shipment_lot_links sll
      JOIN inventory_movement_lots iml ON iml.id = sll.inventory_movement_lot_id
      JOIN sales_order_shipments s ON s.id = sll.sales_order_shipment_id
      JOIN sales_orders so ON so.id = s.sales_order_id
     GROUP BY iml.lot_id, s.id, s.sales_order_id, so.number, s.customer_id, s.shipped_at
), actual AS (
    SELECT lot_id, sales_order_shipment_id AS shipment_id, sales_order_id, sales_order_number AS number,
           customer_id, shipped_at, quantity
      FROM lot_shipments
), bad AS (
    (SELECT * FROM expected EXCEPT ALL SELECT * FROM actual)
    UNION ALL
    (SELECT * FROM actual EXCEPT ALL SELECT * FROM expected)
)
SELECT count(*), string_agg(lot_id::text || '/' || shipment_id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT lot_id, shipment_id, row_number() OVER () AS rn FROM bad) b
