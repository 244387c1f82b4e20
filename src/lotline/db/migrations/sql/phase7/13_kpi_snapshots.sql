-- Phase 7 migration 13: kpi_snapshots
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE kpi_snapshots (
    id uuid PRIMARY KEY,
    kpi_run_id uuid NOT NULL REFERENCES kpi_runs(id) ON DELETE CASCADE,
    kpi_name text NOT NULL,
    dimensions jsonb NOT NULL,
    value numeric(18,6),
    units text,
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_kpi_snapshots_run ON kpi_snapshots(kpi_run_id, kpi_name);
CREATE INDEX idx_kpi_snapshots_dimensions_gin ON kpi_snapshots USING gin(dimensions);
