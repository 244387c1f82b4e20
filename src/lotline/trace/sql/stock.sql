-- The ledger of a set of lots as of a time, read once and returned two ways (one statement):
--   kind 'ledger'  : per lot and location, quantities split by what they did — the source of the
--                    as-of on-hand and of the mass balance;
--   kind 'receipt' : per receipt / customer-return movement and lot, where stock came in from;
--   kind 'balance' : (only with_balances) the current on-hand per lot and location from the derived
--                    inventory_balances table — zero rows included, so a drift from the ledger
--                    shows as an imbalance.
--
-- Parameters: lot_ids uuid[] (sent in binary (a b placeholder): thousands of ids encode several times faster
--   than as text), as_of timestamptz, with_balances boolean
-- Output: kind, lot_no (the lot's 1-based position in lot_ids: the caller holds the lots, so no
--         UUID is sent back or hashed per row), location_id, location_code, location_kind, received, produced, returned,
--         adjusted_in, consumed, shipped, scrapped, adjusted_out, transferred_in, transferred_out,
--         on_hand (signed sum of every lot row), movement_id, movement_type, occurred_at,
--         vendor_id, vendor_code, vendor_name, customer_id, customer_code, customer_name,
--         external_ref — outflows as positive numbers; columns not relevant to a kind are NULL.
-- Invariants: every lot row counts exactly once per kind; transfers are kept apart (they net to
--   zero per lot across locations when the ledger is sound); a reversed receipt shows with its
--   reversal (a negative receipt row), never hidden.
WITH rows AS MATERIALIZED (
    -- the line carries its movement's type and time (migration 0019); the movement itself is read
    -- only for the receipts and returns below. The line is looked up per lot row through a
    -- LATERAL subquery the planner cannot flatten (OFFSET 0): an index probe at every scale. As a
    -- plain join, a trace reaching a large share of a small database was planned as a hash of
    -- every ledger line (1.1M at scale 100: 1.9 s instead of ~0.3 s).
    SELECT x.lot_no, ml.location_id, iml.quantity_delta AS q, ml.movement_id, ml.movement_type,
           ml.occurred_at
      FROM unnest(%(lot_ids)b::uuid[]) WITH ORDINALITY AS x(lot_id, lot_no)
      JOIN inventory_movement_lots iml ON iml.lot_id = x.lot_id
     CROSS JOIN LATERAL (
            SELECT l.location_id, l.movement_id, l.movement_type, l.occurred_at
              FROM inventory_movement_lines l
             WHERE l.id = iml.inventory_movement_line_id AND l.occurred_at <= %(as_of)s::timestamptz
            OFFSET 0
           ) AS ml
), ledger AS (
    SELECT r.lot_no, r.location_id,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'receipt'), 0) AS received,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'production_produce'), 0) AS produced,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'return'), 0) AS returned,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'adjustment' AND r.q > 0), 0) AS adjusted_in,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'production_consume'), 0) AS consumed,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'shipment'), 0) AS shipped,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'scrap'), 0) AS scrapped,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'adjustment' AND r.q < 0), 0) AS adjusted_out,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'transfer' AND r.q > 0), 0) AS transferred_in,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'transfer' AND r.q < 0), 0) AS transferred_out,
           sum(r.q) AS on_hand
      FROM rows r
     GROUP BY r.lot_no, r.location_id
), receipts AS (
    SELECT r.lot_no, r.location_id, r.movement_id, r.movement_type, r.occurred_at, m.vendor_id,
           m.customer_id, m.external_ref, sum(r.q) AS quantity
      FROM rows r
      JOIN inventory_movements m ON m.id = r.movement_id
     WHERE r.movement_type IN ('receipt', 'return')
     GROUP BY r.lot_no, r.location_id, r.movement_id, r.movement_type, r.occurred_at, m.vendor_id,
              m.customer_id, m.external_ref
)
SELECT 'ledger' AS kind, l.lot_no, l.location_id, loc.code AS location_code, loc.kind AS location_kind,
       l.received, l.produced, l.returned, l.adjusted_in, l.consumed, l.shipped, l.scrapped,
       l.adjusted_out, l.transferred_in, l.transferred_out, l.on_hand,
       NULL::uuid AS movement_id, NULL::text AS movement_type, NULL::timestamptz AS occurred_at,
       NULL::uuid AS vendor_id, NULL::text AS vendor_code, NULL::text AS vendor_name,
       NULL::uuid AS customer_id, NULL::text AS customer_code, NULL::text AS customer_name,
       NULL::text AS external_ref
  FROM ledger l
  JOIN locations loc ON loc.id = l.location_id
UNION ALL
SELECT 'receipt', r.lot_no, r.location_id, loc.code, loc.kind,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, r.quantity,
       r.movement_id, r.movement_type, r.occurred_at,
       r.vendor_id, v.code, v.name, r.customer_id, c.code, c.name, r.external_ref
  FROM receipts r
  JOIN locations loc ON loc.id = r.location_id
  LEFT JOIN vendors v ON v.id = r.vendor_id
  LEFT JOIN customers c ON c.id = r.customer_id
UNION ALL
SELECT 'balance', x.lot_no, b.location_id, loc.code, loc.kind,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, b.quantity,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM unnest(%(lot_ids)b::uuid[]) WITH ORDINALITY AS x(lot_id, lot_no)
  JOIN inventory_balances b ON b.lot_id = x.lot_id
  JOIN locations loc ON loc.id = b.location_id
 WHERE %(with_balances)s::boolean
