-- Phase 7 migration 8: recall_impacted_shipments
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE recall_impacted_shipments (
    id uuid PRIMARY KEY,
    recall_trace_run_id uuid NOT NULL REFERENCES recall_trace_runs(id) ON DELETE CASCADE,
    sales_order_shipment_id uuid NOT NULL REFERENCES sales_order_shipments(id),
    customer_id uuid NOT NULL REFERENCES customers(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (recall_trace_run_id, sales_order_shipment_id)
);
CREATE INDEX idx_recall_impacted_shipments_customer ON recall_impacted_shipments(customer_id);
