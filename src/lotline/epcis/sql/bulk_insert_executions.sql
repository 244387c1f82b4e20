-- Purpose: the work order executions of a bulk chunk with their lot links and genealogy edges, in
--   one statement, after their movements.
-- Parameters: executions, one element each: ids uuid[], work_orders uuid[], times timestamptz[],
--   consumes uuid[] (NULL without inputs), produces uuid[], refs text[];
--   links, one per lot row of both movements: link_ids uuid[], link_executions uuid[], link_rows uuid[],
--   link_roles text[] ('consume' | 'produce');
--   edges, one per (consumed lot, produced lot) of an execution: edge_executions uuid[], parents uuid[],
--   children uuid[], consumed numeric[], produced numeric[], edge_times timestamptz[].
-- Output: none.
-- Invariants: as insert_execution.sql of production (notes NULL; every consumed lot a parent of
--   every produced lot of its execution, with the lots' totals; edges carry the execution's time);
--   one audit entry per execution and link.
WITH executions AS (
    INSERT INTO work_order_executions
           (id, work_order_id, occurred_at, consume_movement_id, produce_movement_id, external_ref, notes)
    SELECT k.id, k.work_order_id, k.occurred_at, k.consume_id, k.produce_id, k.ref, NULL
      FROM unnest(%(ids)s::uuid[], %(work_orders)s::uuid[], %(times)s::timestamptz[], %(consumes)s::uuid[],
                  %(produces)s::uuid[], %(refs)s::text[])
           AS k(id, work_order_id, occurred_at, consume_id, produce_id, ref)
    RETURNING id
), links AS (
    INSERT INTO work_order_lot_links (id, work_order_execution_id, inventory_movement_lot_id, role)
    SELECT k.id, e.id, k.row_id, k.role
      FROM unnest(%(link_ids)s::uuid[], %(link_executions)s::uuid[], %(link_rows)s::uuid[], %(link_roles)s::text[])
           AS k(id, execution_id, row_id, role)
      JOIN executions e ON e.id = k.execution_id
)
INSERT INTO lot_genealogy_edges
       (work_order_execution_id, parent_lot_id, child_lot_id, consumed_quantity, produced_quantity, occurred_at)
SELECT e.id, k.parent, k.child, k.consumed, k.produced, k.occurred_at
  FROM unnest(%(edge_executions)s::uuid[], %(parents)s::uuid[], %(children)s::uuid[], %(consumed)s::numeric[],
              %(produced)s::numeric[], %(edge_times)s::timestamptz[])
       AS k(execution_id, parent, child, consumed, produced, occurred_at)
  JOIN executions e ON e.id = k.execution_id
