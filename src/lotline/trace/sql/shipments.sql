-- Shipments of a set of lots up to as_of, with order and customer, in the trace's order.
--
-- Parameters: lot_ids uuid[] (the caller lists them in (sku, lot_id) order; sent in binary (a b placeholder):
--   thousands of ids encode several times faster than as text), as_of timestamptz
-- Output: sales_order_shipment_id, sales_order_id, sales_order_number, customer_id, customer_code,
--         customer_name, shipped_at, lot_no, quantity (> 0), in this order; one row per
--         (shipment, lot). lot_no is the lot's position in lot_ids (1-based): item columns and the
--         lot id itself come from the lots the caller already holds. Rows are ordered by
--         (shipped_at, sales_order_number in byte order, lot_no, shipment id), which is the
--         trace's (shipped_at, sales_order_number, sku, lot_id) order.
-- Invariants: reads the derived lot_shipments table (one row per lot and shipment, written with
--         shipment_lot_links by the shipping service; generate's check_10 proves they agree): an
--         index-only scan on (lot_id, shipped_at) instead of four index probes per shipped lot row.
SELECT ls.sales_order_shipment_id, ls.sales_order_id, ls.sales_order_number,
       ls.customer_id, c.code AS customer_code, c.name AS customer_name, ls.shipped_at,
       x.lot_no, ls.quantity
  FROM unnest(%(lot_ids)b::uuid[]) WITH ORDINALITY AS x(lot_id, lot_no)
  JOIN lot_shipments ls ON ls.lot_id = x.lot_id AND ls.shipped_at <= %(as_of)s::timestamptz
  JOIN customers c ON c.id = ls.customer_id
 ORDER BY ls.shipped_at, ls.sales_order_number COLLATE "C", x.lot_no, ls.sales_order_shipment_id
