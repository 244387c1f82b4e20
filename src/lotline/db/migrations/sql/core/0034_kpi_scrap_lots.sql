-- Derived scrap lot rows for KPI runs: one row per inventory_movement_lots row of a scrap line,
-- with the copies a run needs to sum expiry write-offs (lot_facts.sql) without joining the ledger:
-- the line's item, location, occurred_at and created_at, the lot row's quantity and the lot's
-- current expires_at. A 12-month run reads these (tens of thousands of rows at scale 1000) instead
-- of probing scrap movements -> lines -> lot rows -> lots by index (7.1 s on a cold cache, 17k
-- page reads of lots alone).
-- Why one row per lot row and not per (item, location, day): a deleted line takes its lot rows with
-- it (ON DELETE CASCADE), and by the time the lot rows' delete trigger runs the line is gone, so a
-- per-day sum could not be decremented; a row keyed by the lot row's id is simply deleted. It also
-- keeps as_of exact with no fallback: recorded_at is each row's own recording time.
-- Invariants:
--   * the table equals the view kpi_scrap_lots_source in every transaction: statement-level
--     triggers with transition tables, in the writer's transaction, on inventory_movement_lots
--     (insert, update, delete, truncate), on inventory_movement_lines (update: a line's copies
--     changed; lines are never edited by lotline, so this never fires in posting) and on lots
--     (update: expires_at copied when it changed); the generator's checker (check_17) proves it;
--   * posting pays one indexed probe of the just-inserted line per lot row it writes (the insert
--     fold), nothing when no lot row is written; a lots UPDATE pays one probe of lot_id per row.
CREATE TABLE kpi_scrap_lots (
    inventory_movement_lot_id uuid PRIMARY KEY,
    lot_id uuid NOT NULL,
    item_id uuid NOT NULL,
    location_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    quantity numeric NOT NULL,
    expires_at timestamptz
);
CREATE INDEX idx_kpi_scrap_lots_lot ON kpi_scrap_lots (lot_id);

CREATE VIEW kpi_scrap_lots_source AS
SELECT ml.id AS inventory_movement_lot_id, ml.lot_id, l.item_id, l.location_id, l.occurred_at,
       l.created_at AS recorded_at, ml.quantity_delta AS quantity, lo.expires_at
  FROM inventory_movement_lots ml
  JOIN inventory_movement_lines l ON l.id = ml.inventory_movement_line_id
  JOIN lots lo ON lo.id = ml.lot_id
 WHERE l.movement_type = 'scrap';

CREATE FUNCTION kpi_scrap_lots_fold_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_scrap_lots
    SELECT n.id, n.lot_id, l.item_id, l.location_id, l.occurred_at, l.created_at, n.quantity_delta, lo.expires_at
      FROM new_lots n
      JOIN inventory_movement_lines l ON l.id = n.inventory_movement_line_id
      JOIN lots lo ON lo.id = n.lot_id
     WHERE l.movement_type = 'scrap';
    RETURN NULL;
END $$;

CREATE FUNCTION kpi_scrap_lots_fold_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM kpi_scrap_lots s USING old_lots o WHERE s.inventory_movement_lot_id = o.id;
    INSERT INTO kpi_scrap_lots
    SELECT n.id, n.lot_id, l.item_id, l.location_id, l.occurred_at, l.created_at, n.quantity_delta, lo.expires_at
      FROM new_lots n
      JOIN inventory_movement_lines l ON l.id = n.inventory_movement_line_id
      JOIN lots lo ON lo.id = n.lot_id
     WHERE l.movement_type = 'scrap';
    RETURN NULL;
END $$;

CREATE FUNCTION kpi_scrap_lots_fold_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM kpi_scrap_lots s USING old_lots o WHERE s.inventory_movement_lot_id = o.id;
    RETURN NULL;
END $$;

CREATE FUNCTION kpi_scrap_lots_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM kpi_scrap_lots;  -- not TRUNCATE: the same statement may be truncating it already
    RETURN NULL;
END $$;

-- A line's copies changed (never in lotline's own posting): its lot rows are refolded.
CREATE FUNCTION kpi_scrap_lots_line_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM kpi_scrap_lots s
     USING inventory_movement_lots ml, old_lines o
     WHERE ml.inventory_movement_line_id = o.id AND s.inventory_movement_lot_id = ml.id;
    INSERT INTO kpi_scrap_lots
    SELECT ml.id, ml.lot_id, n.item_id, n.location_id, n.occurred_at, n.created_at, ml.quantity_delta, lo.expires_at
      FROM new_lines n
      JOIN inventory_movement_lots ml ON ml.inventory_movement_line_id = n.id
      JOIN lots lo ON lo.id = ml.lot_id
     WHERE n.movement_type = 'scrap'
;
    RETURN NULL;
END $$;

-- Transition tables cannot be combined with UPDATE OF expires_at, so every lots UPDATE runs this;
-- it touches only rows whose copy differs (status changes of posting leave the table alone).
CREATE FUNCTION kpi_scrap_lots_lot_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE kpi_scrap_lots s
       SET expires_at = n.expires_at
      FROM new_lots n
     WHERE s.lot_id = n.id
       AND s.expires_at IS DISTINCT FROM n.expires_at;
    RETURN NULL;
END $$;

CREATE TRIGGER kpi_scrap_lots_insert AFTER INSERT ON inventory_movement_lots
    REFERENCING NEW TABLE AS new_lots FOR EACH STATEMENT EXECUTE FUNCTION kpi_scrap_lots_fold_insert();
CREATE TRIGGER kpi_scrap_lots_update AFTER UPDATE ON inventory_movement_lots
    REFERENCING OLD TABLE AS old_lots NEW TABLE AS new_lots
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_scrap_lots_fold_update();
CREATE TRIGGER kpi_scrap_lots_delete AFTER DELETE ON inventory_movement_lots
    REFERENCING OLD TABLE AS old_lots FOR EACH STATEMENT EXECUTE FUNCTION kpi_scrap_lots_fold_delete();
CREATE TRIGGER kpi_scrap_lots_truncate AFTER TRUNCATE ON inventory_movement_lots
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_scrap_lots_truncate();
CREATE TRIGGER kpi_scrap_lots_line_update AFTER UPDATE ON inventory_movement_lines
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_scrap_lots_line_update();
CREATE TRIGGER kpi_scrap_lots_lot_update AFTER UPDATE ON lots
    REFERENCING NEW TABLE AS new_lots FOR EACH STATEMENT EXECUTE FUNCTION kpi_scrap_lots_lot_update();

INSERT INTO kpi_scrap_lots SELECT * FROM kpi_scrap_lots_source;
ANALYZE kpi_scrap_lots;
