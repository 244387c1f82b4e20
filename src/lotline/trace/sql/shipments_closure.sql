-- Shipments of the start lots and of their forward closure up to as_of, with order and customer, in
-- the trace's order — as shipments.sql, but the statement walks the forward closure itself instead
-- of being handed the lots, so it can be sent together with closure.sql (in one pipeline) and run
-- while the caller reads and assembles the closure's rows.
--
-- Parameters: targets uuid[] (the start lots), forward_start uuid[] (the start lots when the trace
--   goes forward, else empty), as_of timestamptz
-- Output: as shipments.sql (same columns and order). lot_no is the lot's 1-based position among the
--   shipped lots — the targets and the forward closure — in (sku, lot id) order, byte order as
--   Python compares str, the order of the UUIDs' 128-bit integers: the caller lists those lots in
--   that order from the closure's rows and reads item columns and ids from them.
-- Invariants: the walk is closure.sql's (lot id alone as the UNION key, edges up to as_of), so the
--   shipped lots are exactly the targets and the lots closure.sql marks downstream. Lookups are
--   LATERAL … OFFSET 0 index probes (see shipments.sql), at every scale.
WITH RECURSIVE down(lot_id) AS (
    SELECT s.lot_id FROM unnest(%(forward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.child_lot_id
      FROM down r
      JOIN lot_genealogy_edges e ON e.parent_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
), shipped AS MATERIALIZED (
    SELECT row_number() OVER (ORDER BY i.sku COLLATE "C", l.id) AS lot_no, l.id AS lot_id
      FROM lots l
      JOIN items i ON i.id = l.item_id
     WHERE l.id = ANY (ARRAY(SELECT lot_id FROM down UNION SELECT t.lot_id FROM unnest(%(targets)s::uuid[]) AS t(lot_id)))
)
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
      FROM shipped x
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
