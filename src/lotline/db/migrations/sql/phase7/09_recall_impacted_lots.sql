-- Phase 7 migration 9: recall_impacted_lots
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE recall_impacted_lots (
    id uuid PRIMARY KEY,
    recall_trace_run_id uuid NOT NULL REFERENCES recall_trace_runs(id) ON DELETE CASCADE,
    lot_id uuid NOT NULL REFERENCES lots(id),
    role text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (recall_trace_run_id, lot_id, role)
);
ALTER TABLE recall_impacted_lots
    ADD CONSTRAINT chk_recall_impacted_lot_role
        CHECK (role IN ('target','upstream_component','downstream_finished'));
