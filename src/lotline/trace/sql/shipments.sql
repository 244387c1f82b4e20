-- Shipments of a set of lots up to as_of, with order and customer.
--
-- Parameters: lot_ids uuid[], as_of timestamptz
-- Output: sales_order_shipment_id, sales_order_id, sales_order_number, customer_id, customer_code,
--         customer_name, shipped_at, lot_id, quantity (> 0), in this order (the caller builds
--         TracedShipment positionally); one row per (shipment, lot). Item columns come from the
--         lots the caller already holds.
-- Invariants: reads the derived lot_shipments table (one row per lot and shipment, written with
--         shipment_lot_links by the shipping service; generate's check_10 proves they agree): an
--         index-only scan on (lot_id, shipped_at) instead of four index probes per shipped lot row.
SELECT ls.sales_order_shipment_id, ls.sales_order_id, ls.sales_order_number,
       ls.customer_id, c.code AS customer_code, c.name AS customer_name, ls.shipped_at,
       ls.lot_id, ls.quantity
  FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
  JOIN lot_shipments ls ON ls.lot_id = x.lot_id AND ls.shipped_at <= %(as_of)s::timestamptz
  JOIN customers c ON c.id = ls.customer_id
