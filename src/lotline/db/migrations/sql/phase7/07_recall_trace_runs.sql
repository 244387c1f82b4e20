-- Phase 7 migration 7: recall_trace_runs
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE recall_trace_runs (
    id uuid PRIMARY KEY,
    recall_case_id uuid NOT NULL REFERENCES recall_cases(id) ON DELETE CASCADE,
    as_of timestamptz NOT NULL,
    status text NOT NULL,
    notes text,
    computed_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE recall_trace_runs
    ADD CONSTRAINT chk_recall_trace_status CHECK (status IN ('computed','superseded'));
CREATE INDEX idx_recall_trace_runs_case ON recall_trace_runs(recall_case_id, computed_at);
