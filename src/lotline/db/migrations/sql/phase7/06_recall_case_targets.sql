-- Phase 7 migration 6: recall_case_targets
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE recall_case_targets (
    id uuid PRIMARY KEY,
    recall_case_id uuid NOT NULL REFERENCES recall_cases(id) ON DELETE CASCADE,
    target_type text NOT NULL,
    lot_id uuid REFERENCES lots(id),
    item_id uuid REFERENCES items(id),
    uom text,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE recall_case_targets
    ADD CONSTRAINT chk_recall_targets_type CHECK (target_type IN ('lot','item'));
CREATE UNIQUE INDEX idx_recall_targets_unique
    ON recall_case_targets(recall_case_id, target_type, lot_id, item_id, uom);
