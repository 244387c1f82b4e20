-- Phase 7 migration 14: kpi_rollup_inputs
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE kpi_rollup_inputs (
    id uuid PRIMARY KEY,
    kpi_run_id uuid NOT NULL REFERENCES kpi_runs(id) ON DELETE CASCADE,
    metric_name text NOT NULL,
    dimensions jsonb NOT NULL,
    numerator_qty numeric(18,6),
    denominator_qty numeric(18,6),
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_kpi_rollup_inputs_run
    ON kpi_rollup_inputs(kpi_run_id, metric_name);
CREATE INDEX idx_kpi_rollup_inputs_dimensions_gin
    ON kpi_rollup_inputs USING gin(dimensions);
