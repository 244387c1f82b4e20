-- Invariant: every ledger line carries its movement's occurred_at, movement_type and created_at
-- (copies that KPI runs read instead of joining the movement).
-- Output: violations bigint, sample text
SELECT count(*), string_agg(l.id::text, ', ') FILTER (WHERE rn <= 5)
  FROM (SELECT l.id, row_number() OVER () AS rn
          FROM inventory_movement_lines l
          JOIN inventory_movements m ON m.id = l.movement_id
         WHERE l.occurred_at <> m.occurred_at
            OR l.movement_type <> m.movement_type
            OR l.created_at <> m.created_at) l
