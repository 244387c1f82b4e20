-- As closure.sql, limited to max_depth hops from the start lots.
--
-- Parameters: forward_start uuid[], backward_start uuid[], as_of timestamptz, status_as_of
--   timestamptz (as closure.sql), max_depth integer
-- Output: as closure.sql (same columns, kinds and order), restricted to the lots within max_depth
--   hops and the edges leaving (forward) / entering (backward) lots whose minimum depth is
--   < max_depth.
-- Invariants: the UNION key is (lot, depth) here, which is needed to know the minimum depth; the
--   depth < max_depth bound makes it terminate on cycles and expands a lot at most max_depth times.
WITH RECURSIVE down(lot_id, depth) AS (
    SELECT s.lot_id, 0 FROM unnest(%(forward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.child_lot_id, r.depth + 1
      FROM down r
      JOIN lot_genealogy_edges e ON e.parent_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
       AND r.depth < %(max_depth)s::integer
), up(lot_id, depth) AS (
    SELECT s.lot_id, 0 FROM unnest(%(backward_start)s::uuid[]) AS s(lot_id)
    UNION
    SELECT e.parent_lot_id, r.depth + 1
      FROM up r
      JOIN lot_genealogy_edges e ON e.child_lot_id = r.lot_id
     WHERE e.occurred_at <= %(as_of)s::timestamptz
       AND r.depth < %(max_depth)s::integer
), reached AS MATERIALIZED (
    SELECT (row_number() OVER (ORDER BY i.sku COLLATE "C", l.lot_code COLLATE "C", l.id))::integer - 1
               AS ix,
           l.id AS lot_id, l.lot_code, l.item_id, i.sku, i.name AS item_name, i.uom,
           -- as of a time: the status then = the old status of the first change after it (audit
           -- trail), else today's; without as_of the audit trail is not read at all
           CASE WHEN %(status_as_of)s::timestamptz IS NULL THEN l.status
                ELSE coalesce((SELECT a.old_values ->> 'status'
                                 FROM audit_log a
                                WHERE a.table_name = 'lots' AND a.record_id = l.id::text
                                  AND a.operation = 'UPDATE' AND a.at > %(status_as_of)s::timestamptz
                                  AND a.old_values ->> 'status' IS DISTINCT FROM a.new_values ->> 'status'
                                ORDER BY a.id LIMIT 1), l.status)
           END AS status,
           l.vendor_lot_code, l.expires_at, l.id IN (SELECT lot_id FROM down) AS downstream
      FROM lots l
      JOIN items i ON i.id = l.item_id
     WHERE l.id = ANY (ARRAY(SELECT lot_id FROM down UNION SELECT lot_id FROM up))
), edges AS (
    SELECT 1 AS kind, e.*
      FROM lot_genealogy_edges e
     WHERE e.parent_lot_id = ANY (ARRAY(SELECT lot_id FROM down GROUP BY lot_id
                                      HAVING min(depth) < %(max_depth)s::integer))
       AND e.occurred_at <= %(as_of)s::timestamptz
    UNION ALL
    SELECT 2, e.*
      FROM lot_genealogy_edges e
     WHERE e.child_lot_id = ANY (ARRAY(SELECT lot_id FROM up GROUP BY lot_id
                                     HAVING min(depth) < %(max_depth)s::integer))
       AND e.occurred_at <= %(as_of)s::timestamptz
)
SELECT u.kind, u.id, u.item_id, u.lot_code, u.sku, u.item_name, u.uom, u.status,
       u.vendor_lot_code, u.expires_at, u.downstream,
       -- the lot ids as text (keys, never made into UUID objects: the caller holds the lots')
       CASE WHEN u.kind = 0 THEN u.id::text END AS lot_key, u.parent_lot_id::text AS parent_key,
       u.child_lot_id::text AS child_key, u.consumed_quantity, u.produced_quantity, u.occurred_at
  FROM (
    SELECT 0 AS kind, r.ix, r.lot_id AS id, r.item_id, r.lot_code, r.sku, r.item_name, r.uom,
           r.status, r.vendor_lot_code, r.expires_at, r.downstream, NULL::uuid AS parent_lot_id,
           NULL::uuid AS child_lot_id, NULL::numeric AS consumed_quantity,
           NULL::numeric AS produced_quantity, NULL::timestamptz AS occurred_at
      FROM reached r
    UNION ALL
    SELECT e.kind, NULL, e.work_order_execution_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, e.parent_lot_id, e.child_lot_id, e.consumed_quantity, e.produced_quantity,
           e.occurred_at
      FROM edges e
  ) AS u
 ORDER BY u.kind > 0, u.ix, u.occurred_at, u.parent_lot_id, u.child_lot_id, u.id, u.kind
