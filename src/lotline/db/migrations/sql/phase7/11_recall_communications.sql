-- Phase 7 migration 11: recall_communications
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE recall_communications (
    id uuid PRIMARY KEY,
    recall_case_id uuid NOT NULL REFERENCES recall_cases(id) ON DELETE CASCADE,
    customer_id uuid REFERENCES customers(id),
    channel text NOT NULL,
    status text NOT NULL,
    sent_at timestamptz,
    subject text,
    body text,
    external_ref text,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE recall_communications
    ADD CONSTRAINT chk_recall_communications_channel
        CHECK (channel IN ('email','phone','letter','portal'));
ALTER TABLE recall_communications
    ADD CONSTRAINT chk_recall_communications_status
        CHECK (status IN ('draft','sent','failed'));
CREATE INDEX idx_recall_communications_case ON recall_communications(recall_case_id, created_at);
CREATE INDEX idx_recall_communications_customer ON recall_communications(customer_id);
