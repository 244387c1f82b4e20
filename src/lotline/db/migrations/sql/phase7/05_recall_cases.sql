-- Phase 7 migration 5: recall_cases
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE recall_cases (
    id uuid PRIMARY KEY,
    recall_number text NOT NULL UNIQUE,
    status text NOT NULL,
    severity text,
    initiated_at timestamptz,
    closed_at timestamptz,
    summary text,
    notes text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL
);
ALTER TABLE recall_cases
    ADD CONSTRAINT chk_recall_cases_status
        CHECK (status IN ('draft','active','closed','canceled'));
ALTER TABLE recall_cases
    ADD CONSTRAINT chk_recall_cases_severity
        CHECK (severity IS NULL OR severity IN ('low','medium','high','critical'));
CREATE INDEX idx_recall_cases_status ON recall_cases(status, initiated_at);
