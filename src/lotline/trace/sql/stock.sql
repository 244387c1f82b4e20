-- The ledger of a set of lots as of a time, read once and returned two ways (one statement):
--   kind 'ledger'  : per lot and location, quantities split by what they did — the source of the
--                    as-of on-hand and of the mass balance;
--   kind 'receipt' : per receipt / customer-return movement and lot, where stock came in from;
--   kind 'balance' : (only with_balances) the current on-hand per lot and location from the derived
--                    inventory_balances table — zero rows included, so a drift from the ledger
--                    shows as an imbalance.
--
-- Parameters: lot_ids uuid[] (the trace sends them as one array literal '{id,id,...}' joined from the
--   ids' text the closure returned: no UUID object is encoded per id), as_of timestamptz,
--   with_balances boolean
-- Output: kind, lot_no (the lot's 1-based position in lot_ids: the caller holds the lots, so no
--         UUID is sent back or hashed per row), location_id, location_code, location_kind, received, produced, returned,
--         adjusted_in, consumed, shipped, scrapped, adjusted_out, transferred_in, transferred_out,
--         on_hand (signed sum of every lot row), movement_id, movement_type, occurred_at,
--         vendor_id, vendor_code, vendor_name, customer_id, customer_code, customer_name,
--         external_ref — outflows as positive numbers; columns not relevant to a kind are NULL.
-- Invariants: every lot row counts exactly once per kind; transfers are kept apart (they net to
--   zero per lot across locations when the ledger is sound); a reversed receipt shows with its
--   reversal (a negative receipt row), never hidden.
-- Shape: a lot's rows come from the derived lot_flow_totals (migration 0030: per lot, location,
--   type and direction, receipts and returns per movement, kept equal to the ledger by triggers)
--   when none of its ledger rows is later than as_of — a handful of rows per lot instead of one
--   per ledger row (a raw lot consumed thousands of times). A lot with a later row (a trace as of
--   an earlier time) is read from its ledger rows, filtered by time, as before. Both lookups are
--   LATERAL subqueries the planner cannot flatten (OFFSET 0): index probes at every scale. As a
--   plain join, a trace reaching a large share of a small database was planned as a hash of every
--   ledger line (1.1M at scale 100: 1.9 s instead of ~0.3 s).
WITH lots_in AS MATERIALIZED (
    SELECT x.lot_id, x.lot_no FROM unnest(%(lot_ids)s::uuid[]) WITH ORDINALITY AS x(lot_id, lot_no)
), totals AS MATERIALIZED (
    SELECT x.lot_no, t.location_id, t.movement_type, t.increase, t.movement_id, t.quantity, t.last_occurred_at
      FROM lots_in x
     CROSS JOIN LATERAL (
            SELECT f.location_id, f.movement_type, f.increase, f.movement_id, f.quantity, f.last_occurred_at
              FROM lot_flow_totals f
             WHERE f.lot_id = x.lot_id
            OFFSET 0
           ) AS t
), recent AS MATERIALIZED (
    -- lots with a ledger row later than as_of: their totals hold rows this trace must not count
    SELECT t.lot_no FROM totals t GROUP BY t.lot_no HAVING max(t.last_occurred_at) > %(as_of)s::timestamptz
), rows AS MATERIALIZED (
    SELECT t.lot_no, t.location_id, t.movement_type, t.increase, t.movement_id, t.quantity AS q
      FROM totals t
     WHERE t.lot_no NOT IN (SELECT r.lot_no FROM recent r)
    UNION ALL
    -- the line carries its movement's type and time (migration 0019)
    SELECT x.lot_no, ml.location_id, ml.movement_type, iml.quantity_delta > 0,
           CASE WHEN ml.movement_type IN ('receipt', 'return') THEN ml.movement_id END, iml.quantity_delta
      FROM recent r
      JOIN lots_in x ON x.lot_no = r.lot_no
      JOIN inventory_movement_lots iml ON iml.lot_id = x.lot_id
     CROSS JOIN LATERAL (
            SELECT l.location_id, l.movement_id, l.movement_type
              FROM inventory_movement_lines l
             WHERE l.id = iml.inventory_movement_line_id AND l.occurred_at <= %(as_of)s::timestamptz
            OFFSET 0
           ) AS ml
), ledger AS (
    SELECT r.lot_no, r.location_id,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'receipt'), 0) AS received,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'production_produce'), 0) AS produced,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'return'), 0) AS returned,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'adjustment' AND r.increase), 0) AS adjusted_in,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'production_consume'), 0) AS consumed,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'shipment'), 0) AS shipped,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'scrap'), 0) AS scrapped,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'adjustment' AND NOT r.increase), 0) AS adjusted_out,
           coalesce(sum(r.q) FILTER (WHERE r.movement_type = 'transfer' AND r.increase), 0) AS transferred_in,
           coalesce(-sum(r.q) FILTER (WHERE r.movement_type = 'transfer' AND NOT r.increase), 0) AS transferred_out,
           sum(r.q) AS on_hand
      FROM rows r
     GROUP BY r.lot_no, r.location_id
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
       r.movement_id, m.movement_type, m.occurred_at,
       m.vendor_id, v.code, v.name, m.customer_id, c.code, c.name, m.external_ref
  FROM (SELECT r.lot_no, r.location_id, r.movement_id, sum(r.q) AS quantity
          FROM rows r
         WHERE r.movement_id IS NOT NULL
         GROUP BY r.lot_no, r.location_id, r.movement_id) AS r
  JOIN inventory_movements m ON m.id = r.movement_id
  JOIN locations loc ON loc.id = r.location_id
  LEFT JOIN vendors v ON v.id = m.vendor_id
  LEFT JOIN customers c ON c.id = m.customer_id
UNION ALL
SELECT 'balance', x.lot_no, b.location_id, loc.code, loc.kind,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, b.quantity,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM unnest(%(lot_ids)s::uuid[]) WITH ORDINALITY AS x(lot_id, lot_no)
  JOIN inventory_balances b ON b.lot_id = x.lot_id
  JOIN locations loc ON loc.id = b.location_id
 WHERE %(with_balances)s::boolean
