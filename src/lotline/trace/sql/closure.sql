-- Forward (where-used) and backward (where-from) closures of the start lots over the derived
-- lot_genealogy_edges table, both in one statement, returned as the reached lots (with their item
-- details) followed by the closure's edges.
--
-- Parameters: forward_start uuid[] (empty = no forward walk), backward_start uuid[] (empty = no
--   backward walk), as_of timestamptz
-- Output columns: kind, ix, child_ix, id, item_id, lot_code, sku, item_name, uom, status,
--   vendor_lot_code, expires_at, consumed_quantity, produced_quantity, occurred_at, downstream.
--   kind 0, one row per reached lot (the start lots plus the children (forward) / parents
--     (backward)): ix = the lot's number 0..n-1 in (sku, lot_code) order (byte order, as Python
--     compares str), id = lot id, then item_id .. expires_at, and downstream = whether the lot is
--     in the forward closure (the start lots included); rows in ix order, first.
--   kind 1 (forward: an edge, occurred_at <= as_of, leaving a lot of the forward closure) and
--     kind 2 (backward: an edge entering a lot of the backward closure): ix / child_ix = the
--     numbers of the parent / child lot, id = work_order_execution_id, then the quantities and
--     occurred_at; ordered by (occurred_at, parent_lot_id, child_lot_id, execution, kind), so an
--     edge both walks return comes twice in a row.
--   Columns not relevant to a kind are NULL.
-- Invariants: cycle-safe and linear — the recursive UNION's row is the lot id alone, so each lot is
--   expanded once however many paths or cycles reach it; the minimum depth is computed by the
--   caller from the edges (a BFS over rows already fetched, on the lot numbers, not a query per
--   lot). The edge probe is `= ANY(ARRAY(...))` so it stays an index scan whatever the planner
--   guesses of the size (the lot details too). The lot numbers let the caller do its graph work on small integers and
--   reuse one UUID object per lot.
WITH RECURSIVE down(lot_id) AS (
    SELECT s.lot_id FROM unnest(%(forward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.child_lot_id
      FROM down r
      JOIN lot_genealogy_edges e ON e.parent_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
), up(lot_id) AS (
    SELECT s.lot_id FROM unnest(%(backward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.parent_lot_id
      FROM up r
      JOIN lot_genealogy_edges e ON e.child_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
), reached AS MATERIALIZED (
    SELECT (row_number() OVER (ORDER BY i.sku COLLATE "C", l.lot_code COLLATE "C", l.id))::integer - 1
               AS ix,
           l.id AS lot_id, l.lot_code, l.item_id, i.sku, i.name AS item_name, i.uom, l.status,
           l.vendor_lot_code, l.expires_at, l.id IN (SELECT lot_id FROM down) AS downstream
      FROM lots l
      JOIN items i ON i.id = l.item_id
     WHERE l.id = ANY (ARRAY(SELECT lot_id FROM down UNION SELECT lot_id FROM up))
), edges AS (
    SELECT 1 AS kind, e.*
      FROM lot_genealogy_edges e
     WHERE e.parent_lot_id = ANY (ARRAY(SELECT lot_id FROM down))
       AND e.occurred_at <= %(as_of)s::timestamptz
    UNION ALL
    SELECT 2, e.*
      FROM lot_genealogy_edges e
     WHERE e.child_lot_id = ANY (ARRAY(SELECT lot_id FROM up))
       AND e.occurred_at <= %(as_of)s::timestamptz
)
SELECT u.kind, u.ix, u.child_ix, u.id, u.item_id, u.lot_code, u.sku, u.item_name, u.uom, u.status,
       u.vendor_lot_code, u.expires_at, u.consumed_quantity, u.produced_quantity, u.occurred_at,
       u.downstream
  FROM (
    SELECT 0 AS kind, r.ix, NULL::integer AS child_ix, r.lot_id AS id, r.item_id, r.lot_code, r.sku,
           r.item_name, r.uom, r.status, r.vendor_lot_code, r.expires_at,
           NULL::numeric AS consumed_quantity, NULL::numeric AS produced_quantity,
           NULL::timestamptz AS occurred_at, r.downstream, NULL::uuid AS parent_lot_id,
           NULL::uuid AS child_lot_id
      FROM reached r
    UNION ALL
    SELECT e.kind, p.ix, c.ix, e.work_order_execution_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, e.consumed_quantity, e.produced_quantity, e.occurred_at, NULL, e.parent_lot_id,
           e.child_lot_id
      FROM edges e
      JOIN reached p ON p.lot_id = e.parent_lot_id
      JOIN reached c ON c.lot_id = e.child_lot_id
  ) AS u
 ORDER BY u.kind > 0, CASE WHEN u.kind = 0 THEN u.ix END, u.occurred_at, u.parent_lot_id,
          u.child_lot_id, u.id, u.kind
