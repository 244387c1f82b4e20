-- Phase 7 migration 2: inventory_movement_lots
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE inventory_movement_lots (
    id uuid PRIMARY KEY,
    inventory_movement_line_id uuid NOT NULL REFERENCES inventory_movement_lines(id) ON DELETE CASCADE,
    lot_id uuid NOT NULL REFERENCES lots(id),
    uom text NOT NULL,
    quantity_delta numeric(18,6) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE inventory_movement_lots
    ADD CONSTRAINT chk_inventory_movement_lots_qty CHECK (quantity_delta <> 0);
CREATE INDEX idx_inventory_movement_lots_lot ON inventory_movement_lots(lot_id);
CREATE INDEX idx_inventory_movement_lots_line ON inventory_movement_lots(inventory_movement_line_id);
