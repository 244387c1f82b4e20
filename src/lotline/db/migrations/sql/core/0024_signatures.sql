-- Electronic signatures (21 CFR 11.50, 11.70, 11.200): a record of its own, per signed step.
--
-- Invariants:
--   * written in the transaction of the signed change, after the signer's password was checked
--     again there; signer_name / signer_full_name are copied (11.50(a): printed name), so a later
--     rename does not rewrite what was signed;
--   * linked to the signed record (table_name, record_id) and to the audit entry of the change it
--     signs (audit_id); manifest is SHA-256 over all of these, so a signature cannot be moved to
--     another record or entry without the mismatch showing (11.70);
--   * append-only like the audit trail (UPDATE/DELETE/TRUNCATE refused), and itself audited.

CREATE TABLE signatures (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid NOT NULL REFERENCES users (id),
    signer_name      text NOT NULL,
    signer_full_name text NOT NULL,
    meaning          text NOT NULL,
    action           text NOT NULL,
    table_name       text NOT NULL,
    record_id        text NOT NULL,
    audit_id         bigint NOT NULL REFERENCES audit_log (id),
    signed_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    manifest         bytea NOT NULL,
    CONSTRAINT signatures_meaning_check CHECK (meaning IN ('approved', 'reviewed', 'responsible')),
    CONSTRAINT signatures_action_check CHECK (action IN ('recall.activate', 'recall.close', 'lot.release', 'kpi.publish')),
    CONSTRAINT signatures_manifest_length_check CHECK (octet_length(manifest) = 32)
);
CREATE INDEX signatures_record_idx ON signatures (table_name, record_id);

CREATE TRIGGER signatures_no_update_delete BEFORE UPDATE OR DELETE ON signatures
    FOR EACH ROW EXECUTE FUNCTION lotline_audit_refuse();
CREATE TRIGGER signatures_no_truncate BEFORE TRUNCATE ON signatures
    FOR EACH STATEMENT EXECUTE FUNCTION lotline_audit_refuse();
CREATE TRIGGER lotline_audit AFTER INSERT ON signatures
    FOR EACH ROW EXECUTE FUNCTION lotline_audit_row('manifest');
