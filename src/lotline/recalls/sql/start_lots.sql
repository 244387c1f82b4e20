-- Purpose: the lots a trace run of a recall case starts from.
-- Parameters: %(case_id)s uuid, %(as_of)s timestamptz.
-- Output: lot_id — every lot target, plus every lot of a lot-tracked item target that existed at as_of
--         (received, manufactured or created no later than as_of).
-- Invariant: distinct lot ids; untracked item targets yield no lots (see untracked_shipments).
SELECT t.lot_id
  FROM recall_case_targets t
 WHERE t.recall_case_id = %(case_id)s::uuid
   AND t.target_type = 'lot'
UNION
SELECT l.id
  FROM recall_case_targets t
  JOIN items i ON i.id = t.item_id AND i.lot_tracked
  JOIN lots l ON l.item_id = t.item_id
 WHERE t.recall_case_id = %(case_id)s::uuid
   AND t.target_type = 'item'
   AND coalesce(l.received_at, l.manufactured_at, l.created_at) <= %(as_of)s::timestamptz
