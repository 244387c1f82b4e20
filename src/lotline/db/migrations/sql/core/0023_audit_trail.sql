-- The audit trail (issue 12, 21 CFR 11.10(e)): append-only, written by the database itself.
--
-- * One generic row trigger function, lotline_audit_row(), on every table of record: one entry per
--   inserted, updated or deleted row, with the whole old and new row as jsonb (columns named in the
--   trigger's arguments are left out: secrets). An UPDATE that changes nothing writes nothing.
-- * Who: the transaction-local setting lotline.actor ('user:NAME', 'os:LOGIN'), set by the one
--   transaction boundary; when absent (raw SQL from psql) the actor is the database role,
--   actor_kind 'db_role'. db_role is always recorded too. Why: lotline.reason, when set.
-- * Written in the same transaction as the change: a change without its entry cannot commit.
-- * The table refuses UPDATE, DELETE and TRUNCATE (lotline_audit_refuse); only the owner could drop
--   those triggers, and that DDL is itself visible in the migration history, not hidden.
-- * Not captured row by row (derived, re-computable from audited records, or bulk computed output
--   of an audited run): inventory_balances, lot_genealogy_edges, lot_shipments,
--   sales_order_line_fills, recall_impacted_lots, recall_impacted_shipments, kpi_snapshots,
--   kpi_rollup_inputs. The generator's COPY load records one 'bulk_load' entry per table.
-- * api_tokens / web_sessions: only changes other than last_used_at / last_seen_at (WHEN clause),
--   so using a credential does not write an entry per request.

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    txid        bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    actor       text NOT NULL,
    actor_kind  text NOT NULL,
    db_role     text NOT NULL DEFAULT current_user,
    table_name  text NOT NULL,
    record_id   text,
    operation   text NOT NULL,
    old_values  jsonb,
    new_values  jsonb,
    reason      text,
    CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind IN ('user', 'os', 'db_role')),
    CONSTRAINT audit_log_operation_check CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'EVENT'))
);
CREATE INDEX audit_log_record_idx ON audit_log (table_name, record_id);
CREATE INDEX audit_log_at_idx ON audit_log (at);
-- lotline audit --lot: the lot's movement rows and targets name it in their values
CREATE INDEX audit_log_lot_idx ON audit_log ((coalesce(new_values, old_values) ->> 'lot_id'))
    WHERE table_name IN ('inventory_movement_lots', 'recall_case_targets', 'work_order_lot_links', 'shipment_lot_links');

CREATE FUNCTION lotline_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit_log is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege', HINT = 'audit entries are never changed or removed';
END
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION lotline_audit_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION lotline_audit_refuse();

-- Who acts, as (kind, name): from lotline.actor, else the database role.
CREATE FUNCTION lotline_audit_actor(OUT kind text, OUT name text) LANGUAGE plpgsql STABLE AS $$
DECLARE
    setting text := current_setting('lotline.actor', true);
BEGIN
    IF setting IS NULL OR setting = '' THEN
        kind := 'db_role';
        name := current_user;
    ELSE
        kind := split_part(setting, ':', 1);
        name := substr(setting, length(kind) + 2);
    END IF;
END
$$;

CREATE FUNCTION lotline_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who record := lotline_audit_actor();
    hidden text[] := coalesce(TG_ARGV, '{}');  -- TG_ARGV is NULL when the trigger has no arguments
    old_row jsonb;
    new_row jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD) - hidden;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW) - hidden;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, old_values, new_values, reason)
    VALUES (who.name, who.kind, TG_TABLE_NAME, coalesce(new_row, old_row) ->> 'id', TG_OP, old_row, new_row,
            nullif(current_setting('lotline.reason', true), ''));
    RETURN NULL;
END
$$;

CREATE FUNCTION lotline_audit_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who record := lotline_audit_actor();
BEGIN
    INSERT INTO audit_log (actor, actor_kind, table_name, operation, reason)
    VALUES (who.name, who.kind, TG_TABLE_NAME, 'TRUNCATE', nullif(current_setting('lotline.reason', true), ''));
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'items', 'locations', 'vendors', 'customers',
        'inventory_movements', 'inventory_movement_lines', 'inventory_movement_lots', 'lots',
        'work_orders', 'work_order_executions', 'work_order_lot_links',
        'sales_orders', 'sales_order_lines', 'sales_order_shipments', 'sales_order_shipment_lines',
        'shipment_lot_links',
        'recall_cases', 'recall_case_targets', 'recall_trace_runs', 'recall_actions', 'recall_communications',
        'kpi_runs', 'user_roles']
    LOOP
        -- (no format(): this file runs through the driver, where a percent sign is a placeholder)
        EXECUTE 'CREATE TRIGGER lotline_audit AFTER INSERT OR UPDATE OR DELETE ON ' || quote_ident(t)
             || ' FOR EACH ROW EXECUTE FUNCTION lotline_audit_row()';
        EXECUTE 'CREATE TRIGGER lotline_audit_truncate AFTER TRUNCATE ON ' || quote_ident(t)
             || ' FOR EACH STATEMENT EXECUTE FUNCTION lotline_audit_truncate()';
    END LOOP;
END
$$;

-- users: the password hash never enters the audit trail (password_changed_at shows a change)
CREATE TRIGGER lotline_audit AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION lotline_audit_row('password_hash');
CREATE TRIGGER lotline_audit_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION lotline_audit_truncate();

CREATE TRIGGER lotline_audit_insert_delete AFTER INSERT OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION lotline_audit_row('token_hash');
CREATE TRIGGER lotline_audit_update AFTER UPDATE ON api_tokens
    FOR EACH ROW WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
    EXECUTE FUNCTION lotline_audit_row('token_hash', 'last_used_at');
CREATE TRIGGER lotline_audit_truncate AFTER TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION lotline_audit_truncate();

CREATE TRIGGER lotline_audit_insert_delete AFTER INSERT OR DELETE ON web_sessions
    FOR EACH ROW EXECUTE FUNCTION lotline_audit_row('session_hash');
CREATE TRIGGER lotline_audit_update AFTER UPDATE ON web_sessions
    FOR EACH ROW WHEN ((to_jsonb(OLD) - 'last_seen_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_seen_at'))
    EXECUTE FUNCTION lotline_audit_row('session_hash', 'last_seen_at');
CREATE TRIGGER lotline_audit_truncate AFTER TRUNCATE ON web_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION lotline_audit_truncate();
