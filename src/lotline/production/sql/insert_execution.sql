-- Purpose: write one checked work order execution with its lot links and genealogy edges in one
--   statement, after its consume and produce movements (sent before it in the same pipeline).
-- Parameters: id uuid, work_order_id uuid, occurred_at timestamptz, consume_movement_id uuid,
--   produce_movement_id uuid, external_ref text, notes text;
--   links, one element per lot row of both movements: link_ids uuid[], link_rows uuid[]
--   (inventory_movement_lots ids), link_roles text[] ('consume' | 'produce');
--   edges, one element per (consumed lot, produced lot): parents uuid[], children uuid[],
--   consumed numeric[], produced numeric[].
-- Output: none.
-- Invariants: every consumed lot is a parent of every produced lot of the execution (the caller
--   builds the cross product with the lots' total quantities); the edges carry the execution's
--   time; audit triggers fire per execution and link row as for any insert.
WITH execution AS (
    INSERT INTO work_order_executions
           (id, work_order_id, occurred_at, consume_movement_id, produce_movement_id, external_ref, notes)
    VALUES (%(id)s::uuid, %(work_order_id)s::uuid, %(occurred_at)s::timestamptz,
            %(consume_movement_id)s::uuid, %(produce_movement_id)s::uuid, %(external_ref)s::text,
            %(notes)s::text)
    RETURNING id, occurred_at
), links AS (
    INSERT INTO work_order_lot_links (id, work_order_execution_id, inventory_movement_lot_id, role)
    SELECT k.id, e.id, k.row_id, k.role
      FROM execution e,
           unnest(%(link_ids)s::uuid[], %(link_rows)s::uuid[], %(link_roles)s::text[]) AS k(id, row_id, role)
)
INSERT INTO lot_genealogy_edges
       (work_order_execution_id, parent_lot_id, child_lot_id, consumed_quantity, produced_quantity, occurred_at)
SELECT e.id, k.parent, k.child, k.consumed, k.produced, e.occurred_at
  FROM execution e,
       unnest(%(parents)s::uuid[], %(children)s::uuid[], %(consumed)s::numeric[], %(produced)s::numeric[])
       AS k(parent, child, consumed, produced)
