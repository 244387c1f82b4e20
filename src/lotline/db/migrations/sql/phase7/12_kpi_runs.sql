-- Phase 7 migration 12: kpi_runs
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE kpi_runs (
    id uuid PRIMARY KEY,
    status text NOT NULL,
    window_start timestamptz,
    window_end timestamptz,
    as_of timestamptz,
    notes text,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE kpi_runs
    ADD CONSTRAINT chk_kpi_runs_status
        CHECK (status IN ('draft','computed','published','archived'));
CREATE INDEX idx_kpi_runs_status ON kpi_runs(status, created_at);
