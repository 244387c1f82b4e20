-- Purpose: the work orders a bulk chunk's transformations create, open, in one statement.
-- Parameters: ids uuid[], numbers text[], items uuid[], planned numeric[], uoms text[], notes text[].
-- Output: none.
-- Invariants: the columns production.create_work_order writes (due_at NULL, status 'open',
--   updated_at now()); one audit INSERT entry per work order.
INSERT INTO work_orders (id, number, item_id, planned_quantity, uom, status, due_at, notes, updated_at)
SELECT k.id, k.number, k.item_id, k.planned, k.uom, 'open', NULL, k.notes, now()
  FROM unnest(%(ids)s::uuid[], %(numbers)s::text[], %(items)s::uuid[], %(planned)s::numeric[], %(uoms)s::text[],
              %(notes)s::text[]) AS k(id, number, item_id, planned, uom, notes)
