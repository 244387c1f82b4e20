-- Purpose: persist the impacted lots of a trace run in one statement (spec invariant 5).
-- Parameters: %(run_id)s uuid, %(lot_ids)s uuid[], %(roles)s text[] (parallel arrays, one entry per
--             (lot, role) of the trace result).
-- Output: none (rowcount = rows inserted).
-- Invariant: roles are target / upstream_component / downstream_finished (CHECK); (run, lot, role) unique.
INSERT INTO recall_impacted_lots (id, recall_trace_run_id, lot_id, role, created_at)
SELECT gen_random_uuid(), %(run_id)s::uuid, k.lot_id, k.role, now()
  FROM unnest(%(lot_ids)s::uuid[], %(roles)s::text[]) AS k(lot_id, role)
