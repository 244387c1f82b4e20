-- Recalls run to completion (21 CFR 7.42 strategy, 7.49 consignee responses, 7.53 status reports):
-- new tables beside the frozen Phase 7 ones, which keep their meaning (recall_communications stays
-- "one notice per customer and channel").

-- 7.42 strategy, one per case; required before activation (checked by the service).
CREATE TABLE recall_strategies (
    recall_case_id uuid PRIMARY KEY REFERENCES recall_cases(id) ON DELETE CASCADE,
    fda_class text NOT NULL CHECK (fda_class IN ('I', 'II', 'III')),
    depth text NOT NULL CHECK (depth IN ('wholesale', 'retail', 'consumer')),
    public_warning text NOT NULL CHECK (public_warning IN ('none', 'general', 'specialized')),
    effectiveness_level text NOT NULL CHECK (effectiveness_level IN ('A', 'B', 'C', 'D', 'E')),
    -- level B: the share of consignees to check, strictly between 10 and 100 percent
    effectiveness_pct numeric(5,2) CHECK (effectiveness_pct IS NULL OR (effectiveness_pct > 10 AND effectiveness_pct < 100)),
    reason text NOT NULL,
    health_hazard text NOT NULL,
    product_description text NOT NULL,
    response_deadline timestamptz NOT NULL,
    reminder_interval_hours integer NOT NULL DEFAULT 48 CHECK (reminder_interval_hours BETWEEN 1 AND 8760),
    reminder_max integer NOT NULL DEFAULT 3 CHECK (reminder_max BETWEEN 0 AND 20),
    status_report_interval_days integer CHECK (status_report_interval_days IS NULL OR status_report_interval_days BETWEEN 1 AND 365),
    coordinator_name text,
    coordinator_email text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (effectiveness_level <> 'B' OR effectiveness_pct IS NOT NULL)
);

-- Who must answer: the impacted customers of the computed run (depth 1), and the sub-accounts a
-- consignee named when it forwarded the recall (depth 2, 3, ...). A new run adds consignees and
-- retires those no longer impacted; responses already given stay.
CREATE TABLE recall_consignees (
    id uuid PRIMARY KEY,
    recall_case_id uuid NOT NULL REFERENCES recall_cases(id) ON DELETE CASCADE,
    customer_id uuid REFERENCES customers(id),
    parent_consignee_id uuid REFERENCES recall_consignees(id),
    depth integer NOT NULL CHECK (depth >= 1),
    name text NOT NULL,
    email text,
    phone text,
    added_by_run_id uuid REFERENCES recall_trace_runs(id),
    retired_at timestamptz,
    retired_by_run_id uuid REFERENCES recall_trace_runs(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((customer_id IS NULL) = (parent_consignee_id IS NOT NULL)),
    CHECK ((depth = 1) = (parent_consignee_id IS NULL))
);
CREATE UNIQUE INDEX uq_recall_consignees_customer ON recall_consignees (recall_case_id, customer_id)
    WHERE customer_id IS NOT NULL;
CREATE INDEX idx_recall_consignees_case ON recall_consignees (recall_case_id, depth);
CREATE INDEX idx_recall_consignees_parent ON recall_consignees (parent_consignee_id);

-- The personal response link: only a hash of the token is stored.
CREATE TABLE recall_response_links (
    id uuid PRIMARY KEY,
    consignee_id uuid NOT NULL REFERENCES recall_consignees(id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX idx_recall_response_links_consignee ON recall_response_links (consignee_id);

-- 7.49 responses: append-only (a correction is a new response).
CREATE TABLE recall_responses (
    id uuid PRIMARY KEY,
    consignee_id uuid NOT NULL REFERENCES recall_consignees(id) ON DELETE CASCADE,
    -- the wall clock, not the transaction start: responses order by it, also within one transaction
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    channel text NOT NULL CHECK (channel IN ('link', 'phone', 'letter', 'email', 'portal')),
    responder text NOT NULL,
    recorded_by text,
    acknowledged boolean NOT NULL,
    holds_product boolean NOT NULL,
    quantity_on_hand numeric(18,6) NOT NULL DEFAULT 0 CHECK (quantity_on_hand >= 0),
    quantity_returned numeric(18,6) NOT NULL DEFAULT 0 CHECK (quantity_returned >= 0),
    quantity_destroyed numeric(18,6) NOT NULL DEFAULT 0 CHECK (quantity_destroyed >= 0),
    forwarded boolean NOT NULL DEFAULT false,
    notes text
);
CREATE INDEX idx_recall_responses_consignee ON recall_responses (consignee_id, received_at);

CREATE FUNCTION recall_responses_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'recall responses are append-only: record a new response instead of changing one'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER trg_recall_responses_append_only BEFORE UPDATE OR DELETE ON recall_responses
    FOR EACH ROW EXECUTE FUNCTION recall_responses_append_only();

-- Reminders: one row per (consignee, n-th reminder) — the unique key is what makes a re-run of
-- the reminder job unable to send the same reminder twice.
CREATE TABLE recall_reminders (
    id uuid PRIMARY KEY,
    consignee_id uuid NOT NULL REFERENCES recall_consignees(id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq >= 1),
    kind text NOT NULL CHECK (kind IN ('reminder', 'escalation')),
    status text NOT NULL CHECK (status IN ('sent', 'failed')),
    sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    message_id text,
    failure text,
    UNIQUE (consignee_id, seq, kind)
);

-- Effectiveness checks (levels B-D): the drawn sample is stored with its seed (reproducible).
CREATE TABLE recall_effectiveness_checks (
    id uuid PRIMARY KEY,
    recall_case_id uuid NOT NULL REFERENCES recall_cases(id) ON DELETE CASCADE,
    consignee_id uuid NOT NULL REFERENCES recall_consignees(id) ON DELETE CASCADE,
    seed bigint NOT NULL,
    drawn_at timestamptz NOT NULL DEFAULT now(),
    result text CHECK (result IS NULL OR result IN ('effective', 'ineffective', 'unreachable')),
    checked_at timestamptz,
    checked_by text,
    notes text,
    UNIQUE (recall_case_id, consignee_id)
);

-- 7.53 status reports: immutable snapshots, numbered per case.
CREATE TABLE recall_status_reports (
    id uuid PRIMARY KEY,
    recall_case_id uuid NOT NULL REFERENCES recall_cases(id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq >= 1),
    issued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    issued_by text,
    figures jsonb NOT NULL,
    changes jsonb NOT NULL,
    UNIQUE (recall_case_id, seq)
);
CREATE FUNCTION recall_status_reports_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an issued status report is never changed: issue a new one'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER trg_recall_status_reports_immutable BEFORE UPDATE ON recall_status_reports
    FOR EACH ROW EXECUTE FUNCTION recall_status_reports_immutable();

-- Scheduled jobs that must remember when they last acted (e.g. the yearly drill reminder).
CREATE TABLE lotline_job_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job text NOT NULL,
    ran_at timestamptz NOT NULL DEFAULT now(),
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_lotline_job_runs_job ON lotline_job_runs (job, ran_at);

-- Audited like every table of record (migration 0023's generic trigger). Response links keep their
-- token hash out of the trail; reminders and the job log are records of what was sent.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['recall_strategies', 'recall_consignees', 'recall_responses', 'recall_reminders',
                             'recall_effectiveness_checks', 'recall_status_reports']
    LOOP
        EXECUTE 'CREATE TRIGGER lotline_audit AFTER INSERT OR UPDATE OR DELETE ON ' || quote_ident(t)
             || ' FOR EACH ROW EXECUTE FUNCTION lotline_audit_row()';
        EXECUTE 'CREATE TRIGGER lotline_audit_truncate AFTER TRUNCATE ON ' || quote_ident(t)
             || ' FOR EACH STATEMENT EXECUTE FUNCTION lotline_audit_truncate()';
    END LOOP;
END
$$;
CREATE TRIGGER lotline_audit AFTER INSERT OR DELETE ON recall_response_links
    FOR EACH ROW EXECUTE FUNCTION lotline_audit_row('token_hash');
