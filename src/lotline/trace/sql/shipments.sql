-- Shipments of a set of lots up to as_of, with order and customer.
--
-- Parameters: lot_ids uuid[], as_of timestamptz
-- Output: sales_order_shipment_id, sales_order_id, sales_order_number, customer_id, customer_code,
--         customer_name, shipped_at, lot_id, item_id, sku, quantity (> 0), uom
--         — one row per (shipment, lot), quantities of several lines of one shipment summed.
-- Invariants: reached only through shipment_lot_links (the spec's lot -> shipment edge).
SELECT s.id AS sales_order_shipment_id, s.sales_order_id, so.number AS sales_order_number,
       s.customer_id, c.code AS customer_code, c.name AS customer_name, s.shipped_at,
       iml.lot_id, l.item_id, i.sku, -sum(iml.quantity_delta) AS quantity, i.uom
  FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
  JOIN inventory_movement_lots iml ON iml.lot_id = x.lot_id
  JOIN shipment_lot_links sll ON sll.inventory_movement_lot_id = iml.id
  JOIN sales_order_shipments s ON s.id = sll.sales_order_shipment_id
  JOIN sales_orders so ON so.id = s.sales_order_id
  JOIN customers c ON c.id = s.customer_id
  JOIN lots l ON l.id = iml.lot_id
  JOIN items i ON i.id = l.item_id
 WHERE s.shipped_at <= %(as_of)s::timestamptz
 GROUP BY s.id, s.sales_order_id, so.number, s.customer_id, c.code, c.name, s.shipped_at,
          iml.lot_id, l.item_id, i.sku, i.uom
