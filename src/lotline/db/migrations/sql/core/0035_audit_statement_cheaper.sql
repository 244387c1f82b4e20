-- lotline_audit_statement() (0031, 0033) with the same entries for less server CPU per statement:
-- it fires on every audited statement (about 25 per bench_posting cycle), so its fixed cost per
-- call is paid on every posting.
--   * No SET clause on the function. 0033's "SET enable_nestloop = off" made every call save, set
--     and restore that setting (a function with a SET clause runs through fmgr's GUC nesting),
--     INSERTs and DELETEs included, which join nothing. Only the UPDATE branch joins old and new
--     rows; it now turns nested loops off around its own INSERT (set_config(..., true), then back
--     to the value it found), which keeps 0033's guarantee: the pairing join is a hash or merge
--     join, linear in the rows updated, whatever plan PL/pgSQL cached for the table.
--   * The actor is parsed inline, with exactly lotline_audit_actor()'s rules (lotline.actor
--     'kind:name', else the database role as 'db_role'): no nested PL/pgSQL call per statement.
--   * The trigger's arguments (hidden and 'ignore:' columns) are parsed only when it has any
--     (TG_NARGS > 0: the credential tables); the other tables skip that query.
-- Recorded exactly as before: one entry per inserted, updated or deleted row in the order the
-- statement changed them, the row as jsonb minus the hidden columns, record_id = the row's id, no
-- entry for an UPDATE that changes nothing (or only an ignored column), actor, kind and reason as
-- lotline_audit_actor() and lotline.reason give them. tests/audit checks every one of these.

CREATE OR REPLACE FUNCTION lotline_audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    setting text := current_setting('lotline.actor', true);
    who_kind text;
    who_name text;
    why text := nullif(current_setting('lotline.reason', true), '');
    ignored text[] := '{}';
    hidden text[] := '{}';
    nestloop text;
BEGIN
    -- as lotline_audit_actor() (0023)
    IF setting IS NULL OR setting = '' THEN
        who_kind := 'db_role';
        who_name := current_user;
    ELSE
        who_kind := split_part(setting, ':', 1);
        who_name := substr(setting, length(who_kind) + 2);
    END IF;
    IF TG_NARGS > 0 THEN
        SELECT coalesce(array_agg(substr(a, 8)) FILTER (WHERE left(a, 7) = 'ignore:'), '{}'),
               coalesce(array_agg(CASE WHEN left(a, 7) = 'ignore:' THEN substr(a, 8) ELSE a END), '{}')
          INTO ignored, hidden
          FROM unnest(TG_ARGV) AS a;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, old_values, new_values, reason)
        SELECT who_name, who_kind, TG_TABLE_NAME, x.v ->> 'id', 'INSERT', NULL, x.v, why
          FROM (SELECT to_jsonb(n) - hidden AS v FROM lotline_new n) x;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, old_values, new_values, reason)
        SELECT who_name, who_kind, TG_TABLE_NAME, x.v ->> 'id', 'DELETE', x.v, NULL, why
          FROM (SELECT to_jsonb(o) - hidden AS v FROM lotline_old o) x;
    ELSE
        -- the pairing join never as a nested loop (0033), for this statement only
        nestloop := current_setting('enable_nestloop');
        PERFORM set_config('enable_nestloop', 'off', true);
        IF cardinality(ignored) = 0 THEN
            INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, old_values, new_values, reason)
            SELECT who_name, who_kind, TG_TABLE_NAME, n.v ->> 'id', 'UPDATE', o.v, n.v, why
              FROM (SELECT row_number() OVER () AS k, o AS r, to_jsonb(o) - hidden AS v FROM lotline_old o) o
              JOIN (SELECT row_number() OVER () AS k, n AS r, to_jsonb(n) - hidden AS v FROM lotline_new n) n
                ON n.k = o.k
             WHERE o.r IS DISTINCT FROM n.r
             ORDER BY o.k;
        ELSE
            INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, old_values, new_values, reason)
            SELECT who_name, who_kind, TG_TABLE_NAME, n.v ->> 'id', 'UPDATE', o.v - hidden, n.v - hidden, why
              FROM (SELECT row_number() OVER () AS k, to_jsonb(o) AS v FROM lotline_old o) o
              JOIN (SELECT row_number() OVER () AS k, to_jsonb(n) AS v FROM lotline_new n) n ON n.k = o.k
             WHERE (o.v - ignored) IS DISTINCT FROM (n.v - ignored)
             ORDER BY o.k;
        END IF;
        PERFORM set_config('enable_nestloop', nestloop, true);
    END IF;
    RETURN NULL;
END
$$;

-- CREATE OR REPLACE already dropped 0033's SET clause; said explicitly for the reader of pg_proc
ALTER FUNCTION lotline_audit_statement() RESET ALL;
