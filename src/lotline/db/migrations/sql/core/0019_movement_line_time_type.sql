-- Every ledger line carries its movement's occurred_at and movement_type (copies; the movement row
-- stays the record). Movements are never edited — a correction is a new, reversing movement — so
-- the copies cannot drift; the posting service writes both in the same INSERT, and the generator's
-- invariant checker (check_12) verifies them. Why: KPI runs aggregate a year of ledger lines by
-- (item, location, day, type); joining 11M lines to 4.6M movements to learn the time and type was
-- most of that pass (measured on the generated data set: the join ~5 s of a ~10 s statement).
-- The line's own created_at already equals its movement's (both now() of the posting transaction).
ALTER TABLE inventory_movement_lines
    ADD COLUMN occurred_at timestamptz,
    ADD COLUMN movement_type text;

UPDATE inventory_movement_lines l
   SET occurred_at = m.occurred_at,
       movement_type = m.movement_type
  FROM inventory_movements m
 WHERE m.id = l.movement_id;

ALTER TABLE inventory_movement_lines
    ALTER COLUMN occurred_at SET NOT NULL,
    ALTER COLUMN movement_type SET NOT NULL,
    ADD CONSTRAINT inventory_movement_lines_movement_type_check CHECK (movement_type IN (
        'receipt', 'transfer', 'adjustment', 'production_consume', 'production_produce',
        'shipment', 'scrap', 'return'));
