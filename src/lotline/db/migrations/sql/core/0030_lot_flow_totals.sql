-- Derived per-lot ledger totals for traces: per (lot, location, movement type, direction) the sum of
-- the lot rows' quantities, their number and their latest time; receipts and customer returns are
-- kept per movement (the trace lists each one). A trace's mass balance, on-hand and receipts read
-- these (a handful of rows per lot) instead of every ledger row of every reached lot — a raw lot
-- consumed thousands of times has thousands of lot rows, and a typical lot's trace reaches several.
-- Invariants:
--   * the table equals the GROUP BY of inventory_movement_lots joined to their lines defined by the
--     view lot_flow_totals_source, in every transaction. Statement-level triggers keep it so,
--     whatever writes the ledger (posting services, imports, EPCIS capture, raw SQL, COPY):
--       - inserted lot rows are folded in (+) in the writer's transaction, one upsert per key in key
--         order (two writers lock the rows they share in the same order). A key is (lot, location,
--         type, direction), which is finer than the balance row (item, location, lot) a posting
--         locks before writing, so a posting that holds its balance rows does not wait here on
--         another one;
--       - updated or deleted lot rows, and lines whose location, type, time or movement change,
--         make the totals of the lots concerned be recomputed from the ledger (exact whatever
--         changed; the ledger is append-only — a correction is a reversing movement — so this is
--         the rare path); a TRUNCATE of the lot rows empties the table;
--     the generator rebuilds it from the view after its COPY load, and its checker (check_16)
--     proves it equal to the view;
--   * last_occurred_at is the latest occurred_at of the key's lot rows: a trace as of a time reads
--     a lot's totals only when all of them are no later than that time (max over its keys), and its
--     ledger rows otherwise, so as_of stays exact.
CREATE TABLE lot_flow_totals (
    lot_id uuid NOT NULL,
    location_id uuid NOT NULL,
    movement_type text NOT NULL,
    increase boolean NOT NULL,           -- the lot rows' quantity > 0
    movement_id uuid,                    -- receipt and return movements only; NULL for other types
    quantity numeric NOT NULL,
    lot_rows bigint NOT NULL,
    last_occurred_at timestamptz NOT NULL,
    CONSTRAINT lot_flow_totals_key UNIQUE NULLS NOT DISTINCT (lot_id, location_id, movement_type, increase, movement_id)
);

CREATE VIEW lot_flow_totals_source AS
SELECT iml.lot_id,
       l.location_id,
       l.movement_type,
       iml.quantity_delta > 0 AS increase,
       CASE WHEN l.movement_type IN ('receipt', 'return') THEN l.movement_id END AS movement_id,
       sum(iml.quantity_delta) AS quantity,
       count(*) AS lot_rows,
       max(l.occurred_at) AS last_occurred_at
  FROM inventory_movement_lots iml
  JOIN inventory_movement_lines l ON l.id = iml.inventory_movement_line_id
 GROUP BY 1, 2, 3, 4, 5;

-- The totals of some lots, recomputed from the ledger as it is now (this transaction's view).
CREATE FUNCTION lot_flow_totals_recompute(lot_ids uuid[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM lot_flow_totals WHERE lot_id = ANY (lot_ids);
    INSERT INTO lot_flow_totals AS t
    SELECT s.* FROM lot_flow_totals_source s WHERE s.lot_id = ANY (lot_ids)
     ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT lot_flow_totals_key DO UPDATE
       SET quantity = EXCLUDED.quantity, lot_rows = EXCLUDED.lot_rows, last_occurred_at = EXCLUDED.last_occurred_at;
$$;

CREATE FUNCTION lot_flow_totals_fold_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lot_flow_totals AS t
    SELECT n.lot_id, l.location_id, l.movement_type, n.quantity_delta > 0,
           CASE WHEN l.movement_type IN ('receipt', 'return') THEN l.movement_id END,
           sum(n.quantity_delta), count(*), max(l.occurred_at)
      FROM new_lots n
      JOIN inventory_movement_lines l ON l.id = n.inventory_movement_line_id
     GROUP BY 1, 2, 3, 4, 5
     ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT lot_flow_totals_key DO UPDATE
       SET quantity = t.quantity + EXCLUDED.quantity,
           lot_rows = t.lot_rows + EXCLUDED.lot_rows,
           last_occurred_at = greatest(t.last_occurred_at, EXCLUDED.last_occurred_at);
    RETURN NULL;
END $$;

CREATE FUNCTION lot_flow_totals_fold_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the lots of the rows that changed in what the totals depend on (lot, line, quantity)
    PERFORM lot_flow_totals_recompute(ARRAY(
        SELECT c.lot_id
          FROM ((SELECT id, lot_id, inventory_movement_line_id, quantity_delta FROM old_lots
                 EXCEPT SELECT id, lot_id, inventory_movement_line_id, quantity_delta FROM new_lots)
                UNION ALL
                (SELECT id, lot_id, inventory_movement_line_id, quantity_delta FROM new_lots
                 EXCEPT SELECT id, lot_id, inventory_movement_line_id, quantity_delta FROM old_lots)) AS c
         GROUP BY c.lot_id
         ORDER BY c.lot_id));
    RETURN NULL;
END $$;

CREATE FUNCTION lot_flow_totals_fold_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lot_flow_totals_recompute(ARRAY(SELECT DISTINCT o.lot_id FROM old_lots o ORDER BY 1));
    RETURN NULL;
END $$;

CREATE FUNCTION lot_flow_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM lot_flow_totals;  -- not TRUNCATE: the same statement may be truncating it already
    RETURN NULL;
END $$;

-- A line's location, type, time or movement is part of its lot rows' keys.
CREATE FUNCTION lot_flow_totals_line_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lot_flow_totals_recompute(ARRAY(
        SELECT DISTINCT iml.lot_id
          FROM old_lines o
          JOIN new_lines n ON n.id = o.id
          JOIN inventory_movement_lots iml ON iml.inventory_movement_line_id = n.id
         WHERE (o.location_id, o.movement_type, o.occurred_at, o.movement_id)
               IS DISTINCT FROM (n.location_id, n.movement_type, n.occurred_at, n.movement_id)
         ORDER BY 1));
    RETURN NULL;
END $$;

CREATE TRIGGER lot_flow_totals_insert AFTER INSERT ON inventory_movement_lots
    REFERENCING NEW TABLE AS new_lots FOR EACH STATEMENT EXECUTE FUNCTION lot_flow_totals_fold_insert();
CREATE TRIGGER lot_flow_totals_update AFTER UPDATE ON inventory_movement_lots
    REFERENCING OLD TABLE AS old_lots NEW TABLE AS new_lots
    FOR EACH STATEMENT EXECUTE FUNCTION lot_flow_totals_fold_update();
CREATE TRIGGER lot_flow_totals_delete AFTER DELETE ON inventory_movement_lots
    REFERENCING OLD TABLE AS old_lots FOR EACH STATEMENT EXECUTE FUNCTION lot_flow_totals_fold_delete();
CREATE TRIGGER lot_flow_totals_truncate AFTER TRUNCATE ON inventory_movement_lots
    FOR EACH STATEMENT EXECUTE FUNCTION lot_flow_totals_truncate();
CREATE TRIGGER lot_flow_totals_line_update AFTER UPDATE ON inventory_movement_lines
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION lot_flow_totals_line_update();

INSERT INTO lot_flow_totals SELECT * FROM lot_flow_totals_source;
