-- Shipments of a set of lots up to as_of, with order and customer, in the trace's order; a
-- shipment's details are sent once for its run of rows.
--
-- Parameters: lot_ids uuid[] (the caller lists them in (sku, lot_id) order; it sends them as one
--   array literal '{id,id,...}' joined from the ids' text the closure returned: encoding thousands
--   of UUID objects one by one cost more than the statement saved), as_of timestamptz
-- Output: one row per (shipment, lot), ordered by (shipped_at, sales_order_number in byte order,
--   lot_no, shipment id) — the trace's (shipped_at, sales_order_number, sku, lot_id) order. Columns:
--   sales_order_shipment_id, sales_order_id, sales_order_number, customer_id, customer_code,
--   customer_name, shipped_at: NULL when the row belongs to the same shipment as the row before
--   (the caller repeats that one), otherwise the shipment's;
--   lot_no: the lot's position in lot_ids (1-based): item columns and the lot id itself come from
--   the lots the caller already holds; quantity (> 0).
-- Invariants: reads the derived lot_shipments table (one row per lot and shipment, written with
--   shipment_lot_links by the shipping service; generate's check_10 proves they agree). The
--   lookup per lot is a LATERAL subquery the planner cannot flatten (OFFSET 0), so it stays an
--   index scan on (lot_id, shipped_at) at every scale, not a hash of the whole table when a trace
--   reaches a large share of a small database. The rows of one shipment are consecutive in this
--   order (same time and order number) unless another shipment of the same order at the same
--   instant interleaves, which only costs a repeat. The most-used lot at scale 1000 has 24,076
--   rows for 8,689 shipments: the driver loads a third of the UUIDs, times and names it would
--   (~20 ms less), for one window function over the sort the statement does anyway.
SELECT CASE WHEN s.first THEN s.sales_order_shipment_id END AS sales_order_shipment_id,
       CASE WHEN s.first THEN s.sales_order_id END AS sales_order_id,
       CASE WHEN s.first THEN s.sales_order_number END AS sales_order_number,
       CASE WHEN s.first THEN s.customer_id END AS customer_id,
       CASE WHEN s.first THEN c.code END AS customer_code,
       CASE WHEN s.first THEN c.name END AS customer_name,
       CASE WHEN s.first THEN s.shipped_at END AS shipped_at,
       s.lot_no, s.quantity
  FROM (
    SELECT ls.sales_order_shipment_id, ls.sales_order_id, ls.sales_order_number, ls.customer_id,
           ls.shipped_at, x.lot_no, ls.quantity,
           ls.sales_order_shipment_id IS DISTINCT FROM lag(ls.sales_order_shipment_id) OVER w AS first
      FROM unnest(%(lot_ids)s::uuid[]) WITH ORDINALITY AS x(lot_id, lot_no)
     CROSS JOIN LATERAL (
            SELECT l.sales_order_shipment_id, l.sales_order_id, l.sales_order_number, l.customer_id,
                   l.shipped_at, l.quantity
              FROM lot_shipments l
             WHERE l.lot_id = x.lot_id AND l.shipped_at <= %(as_of)s::timestamptz
            OFFSET 0
           ) AS ls
    WINDOW w AS (ORDER BY ls.shipped_at, ls.sales_order_number COLLATE "C", x.lot_no,
                          ls.sales_order_shipment_id)
  ) AS s
  JOIN customers c ON c.id = s.customer_id
 ORDER BY s.shipped_at, s.sales_order_number COLLATE "C", s.lot_no, s.sales_order_shipment_id
