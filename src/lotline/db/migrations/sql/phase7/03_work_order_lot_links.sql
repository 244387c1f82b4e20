-- Phase 7 migration 3: work_order_lot_links
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE work_order_lot_links (
    id uuid PRIMARY KEY,
    work_order_execution_id uuid NOT NULL REFERENCES work_order_executions(id) ON DELETE CASCADE,
    inventory_movement_lot_id uuid NOT NULL REFERENCES inventory_movement_lots(id) ON DELETE CASCADE,
    role text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE work_order_lot_links
    ADD CONSTRAINT chk_work_order_lot_links_role CHECK (role IN ('consume','produce'));
CREATE INDEX idx_work_order_lot_links_execution ON work_order_lot_links(work_order_execution_id);
CREATE INDEX idx_work_order_lot_links_lot ON work_order_lot_links(inventory_movement_lot_id);
