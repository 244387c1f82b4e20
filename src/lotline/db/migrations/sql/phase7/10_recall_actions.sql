-- Phase 7 migration 10: recall_actions
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE recall_actions (
    id uuid PRIMARY KEY,
    recall_case_id uuid NOT NULL REFERENCES recall_cases(id) ON DELETE CASCADE,
    action_type text NOT NULL,
    status text NOT NULL,
    lot_id uuid REFERENCES lots(id),
    sales_order_shipment_id uuid REFERENCES sales_order_shipments(id),
    inventory_movement_id uuid REFERENCES inventory_movements(id),
    notes text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL
);
ALTER TABLE recall_actions
    ADD CONSTRAINT chk_recall_actions_type
        CHECK (action_type IN ('block_lot','quarantine_lot','scrap_lot','restock_lot','customer_notify'));
ALTER TABLE recall_actions
    ADD CONSTRAINT chk_recall_actions_status
        CHECK (status IN ('planned','in_progress','completed','canceled'));
CREATE INDEX idx_recall_actions_case_status
    ON recall_actions(recall_case_id, status);
CREATE INDEX idx_recall_actions_lot ON recall_actions(lot_id);
