-- Lot search as you type: lots whose code, vendor lot code or item SKU starts with one of :terms, and
-- lots shipped to a customer / on an order / shipment whose code or number starts with one (the first
-- few of each: this answers as you type; the lot page and trace view have the rest).
-- Lot codes: one range probe of idx_lots_item_code (item_id, lot_code) per item (~120 items), so the
-- frozen lots table needs no new index. Vendor lot codes: the derived lot_search_keys table.
-- Run with jit off: the estimate of the union is high enough to trigger JIT (~1.5 s of compiling).
-- Ranges: [term, term || U+10FFFF) is the prefix range under the database's code-point (C) order.
WITH t AS (SELECT DISTINCT term, term || chr(1114111) AS hi FROM unnest(%(terms)s::text[]) AS term),
by_code AS (
    SELECT l.id, 'lot code' AS matched, l.lot_code AS term
      FROM t CROSS JOIN items i
      CROSS JOIN LATERAL (SELECT id, lot_code FROM lots
                           WHERE lots.item_id = i.id AND lots.lot_code >= t.term AND lots.lot_code < t.hi
                           ORDER BY lots.lot_code LIMIT %(limit)s::int) l
),
by_vendor_lot AS (
    SELECT k.lot_id AS id, 'vendor lot code' AS matched, k.key AS term
      FROM t CROSS JOIN LATERAL (SELECT lot_id, key FROM lot_search_keys
                                  WHERE key >= t.term AND key < t.hi ORDER BY key LIMIT %(limit)s::int) k
),
by_sku AS (
    SELECT l.id, 'SKU ' || i.sku AS matched, i.sku AS term
      FROM t JOIN items i ON i.sku >= t.term AND i.sku < t.hi
      CROSS JOIN LATERAL (SELECT id FROM lots WHERE lots.item_id = i.id ORDER BY lot_code DESC LIMIT %(limit)s::int) l
),
by_party AS (
    -- customers: the lots they received (derived lot_shipments, latest first)
    SELECT ls.lot_id AS id, 'customer ' || c.code AS matched, c.code AS term
      FROM t CROSS JOIN LATERAL (SELECT id, code FROM customers WHERE code >= t.term AND code < t.hi
                                  ORDER BY code LIMIT 10) c
      -- a few lots per customer, in index order: each row is a heap fetch, and this answers as you type
      CROSS JOIN LATERAL (SELECT lot_id FROM lot_shipments WHERE customer_id = c.id LIMIT 5) ls
    UNION ALL
    -- orders and shipments: the lots on them
    SELECT ml.lot_id, m.matched, m.term
      FROM (
        SELECT 'order ' || o.number AS matched, o.number AS term, s.id AS shipment_id
          FROM t JOIN LATERAL (SELECT id, number FROM sales_orders
                                WHERE number >= t.term AND number < t.hi ORDER BY number LIMIT 10) o ON true
          JOIN sales_order_shipments s ON s.sales_order_id = o.id
        UNION ALL
        SELECT 'shipment ' || s.external_ref, s.external_ref, s.id
          FROM t JOIN LATERAL (SELECT id, external_ref FROM sales_order_shipments
                                WHERE external_ref >= t.term AND external_ref < t.hi
                                ORDER BY external_ref LIMIT 10) s ON true
      ) m
      JOIN shipment_lot_links sl ON sl.sales_order_shipment_id = m.shipment_id
      JOIN inventory_movement_lots ml ON ml.id = sl.inventory_movement_lot_id
),
hits AS (
    SELECT DISTINCT ON (id) id, matched, term, rank
      FROM (SELECT *, 1 AS rank FROM by_code UNION ALL SELECT *, 2 FROM by_vendor_lot
            UNION ALL SELECT *, 3 FROM by_sku UNION ALL SELECT *, 4 FROM by_party) h
     ORDER BY id, rank
)
SELECT l.id, l.lot_code, l.status, l.vendor_lot_code, l.expires_at, i.sku, i.name AS item_name,
       h.matched, h.term
  FROM (SELECT * FROM hits ORDER BY rank, term LIMIT %(limit)s::int) h
  JOIN lots l ON l.id = h.id
  JOIN items i ON i.id = l.item_id
 ORDER BY h.rank, h.term, l.lot_code
