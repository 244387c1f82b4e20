-- (Re)derive lot_shipments from the spec tables: every shipped lot row, summed per (lot, shipment).
-- Used by migration 0017 for existing data and by the bulk generator after COPY.
INSERT INTO lot_shipments
       (lot_id, sales_order_shipment_id, sales_order_id, sales_order_number, customer_id, shipped_at, quantity)
SELECT iml.lot_id, s.id, s.sales_order_id, so.number, s.customer_id, s.shipped_at, -sum(iml.quantity_delta)
  FROM shipment_lot_links sll
  JOIN inventory_movement_lots iml ON iml.id = sll.inventory_movement_lot_id
  JOIN sales_order_shipments s ON s.id = sll.sales_order_shipment_id
  JOIN sales_orders so ON so.id = s.sales_order_id
 GROUP BY iml.lot_id, s.id, s.sales_order_id, so.number, s.customer_id, s.shipped_at;
