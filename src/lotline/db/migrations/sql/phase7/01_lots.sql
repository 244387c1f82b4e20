-- Phase 7 migration 1: lots
-- Verbatim copy of the frozen spec DDL (phase7-compliance-reporting.md). Do not edit.
CREATE TABLE lots (
    id uuid PRIMARY KEY,
    item_id uuid NOT NULL REFERENCES items(id),
    lot_code text NOT NULL,
    status text NOT NULL,
    manufactured_at timestamptz,
    received_at timestamptz,
    expires_at timestamptz,
    vendor_lot_code text,
    notes text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL
);
ALTER TABLE lots
    ADD CONSTRAINT chk_lots_status
        CHECK (status IN ('active','quarantine','blocked','consumed','expired'));
CREATE UNIQUE INDEX idx_lots_item_code ON lots(item_id, lot_code);
CREATE INDEX idx_lots_status ON lots(status);
