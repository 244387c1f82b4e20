-- The audit trail captured per statement instead of per row (issue 12: auditing must cost at most
-- 15 % of posting throughput). Every row trigger on lotline_audit_row() (migrations 0023, 0024,
-- 0028, and any later table audited the same way before this revision) becomes up to three
-- statement-level triggers, lotline_audit_insert / _update / _delete, on lotline_audit_statement(),
-- which reads the statement's transition tables (REFERENCING NEW TABLE / OLD TABLE) and writes the
-- entries of all its rows with one INSERT ... SELECT: the actor and the reason are read once per
-- statement instead of once per row, and one plan serves all the rows.
--
-- What is recorded stays exactly what lotline_audit_row() recorded:
--   * one entry per inserted, updated or deleted row, in the order the statement changed them,
--     with the whole old / new row as jsonb minus the trigger's hidden columns (its arguments:
--     token and password hashes, signature manifests), record_id = the row's "id";
--   * an UPDATE of a row that changes nothing writes nothing (the row comparison
--     OLD IS DISTINCT FROM NEW, per row);
--   * api_tokens / web_sessions: an update that changes only last_used_at / last_seen_at writes
--     nothing (0023's WHEN clause; a statement trigger has none, so the argument
--     'ignore:<column>' says it: the column is hidden and a change to it alone is not recorded);
--   * the actor from lotline.actor, else the database role; the reason from lotline.reason; the
--     entry's time is clock_timestamp() per row (the column default), txid and db_role as before.
-- UPDATE pairs old and new rows by position: PostgreSQL fills the two transition tables in
-- lockstep, one old and one new tuple per updated row (AfterTriggerSaveEvent), and a scan of a
-- transition table returns its tuples in that order.
-- lotline_audit_row() itself stays (a later migration may still attach it; the conversion below
-- is generic); TRUNCATE keeps its statement trigger lotline_audit_truncate.

CREATE FUNCTION lotline_audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who record := lotline_audit_actor();
    why text := nullif(current_setting('lotline.reason', true), '');
    args text[] := coalesce(TG_ARGV, '{}');  -- TG_ARGV is NULL when the trigger has no arguments
    ignored text[];
    hidden text[];
BEGIN
    SELECT coalesce(array_agg(substr(a, 8)) FILTER (WHERE left(a, 7) = 'ignore:'), '{}'),
           coalesce(array_agg(CASE WHEN left(a, 7) = 'ignore:' THEN substr(a, 8) ELSE a END), '{}')
      INTO ignored, hidden
      FROM unnest(args) AS a;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, old_values, new_values, reason)
        SELECT who.name, who.kind, TG_TABLE_NAME, x.v ->> 'id', 'INSERT', NULL, x.v, why
          FROM (SELECT to_jsonb(n) - hidden AS v FROM lotline_new n) x;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, old_values, new_values, reason)
        SELECT who.name, who.kind, TG_TABLE_NAME, x.v ->> 'id', 'DELETE', x.v, NULL, why
          FROM (SELECT to_jsonb(o) - hidden AS v FROM lotline_old o) x;
    ELSIF cardinality(ignored) = 0 THEN
        INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, old_values, new_values, reason)
        SELECT who.name, who.kind, TG_TABLE_NAME, n.v ->> 'id', 'UPDATE', o.v, n.v, why
          FROM (SELECT row_number() OVER () AS k, o AS r, to_jsonb(o) - hidden AS v FROM lotline_old o) o
          JOIN (SELECT row_number() OVER () AS k, n AS r, to_jsonb(n) - hidden AS v FROM lotline_new n) n
            ON n.k = o.k
         WHERE o.r IS DISTINCT FROM n.r
         ORDER BY o.k;
    ELSE
        INSERT INTO audit_log (actor, actor_kind, table_name, record_id, operation, old_values, new_values, reason)
        SELECT who.name, who.kind, TG_TABLE_NAME, n.v ->> 'id', 'UPDATE', o.v - hidden, n.v - hidden, why
          FROM (SELECT row_number() OVER () AS k, to_jsonb(o) AS v FROM lotline_old o) o
          JOIN (SELECT row_number() OVER () AS k, to_jsonb(n) AS v FROM lotline_new n) n ON n.k = o.k
         WHERE (o.v - ignored) IS DISTINCT FROM (n.v - ignored)
         ORDER BY o.k;
    END IF;
    RETURN NULL;
END
$$;

-- Replace every row trigger on lotline_audit_row() by statement triggers, table by table.
-- A row trigger with a WHEN clause is only known for the two credential tables (0023); any other
-- stops the migration rather than silently widening what is recorded.
DO $$
DECLARE
    t record;
    op text;
    args text;
BEGIN
    FOR t IN
        SELECT tg.tgrelid::regclass AS tbl,
               tg.tgname,
               tg.tgtype,
               tg.tgqual IS NOT NULL AS has_when,
               c.relname,
               CASE WHEN tg.tgnargs = 0 THEN '{}'::text[]
                    ELSE (string_to_array(encode(tg.tgargs, 'escape'), '\000'))[1:tg.tgnargs] END AS argv
          FROM pg_trigger tg
          JOIN pg_class c ON c.oid = tg.tgrelid
         WHERE tg.tgfoid = 'lotline_audit_row()'::regprocedure
           AND NOT tg.tgisinternal
           AND (tg.tgtype & 1) = 1  -- row level
         ORDER BY c.relname, tg.tgname
    LOOP
        IF t.has_when AND t.relname NOT IN ('api_tokens', 'web_sessions') THEN
            RAISE EXCEPTION 'audit trigger % on % has a WHEN clause this migration does not know', t.tgname, t.tbl;
        END IF;
        EXECUTE 'DROP TRIGGER ' || quote_ident(t.tgname) || ' ON ' || t.tbl::text;
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            CONTINUE WHEN (op = 'insert' AND (t.tgtype & 4) = 0)
                       OR (op = 'delete' AND (t.tgtype & 8) = 0)
                       OR (op = 'update' AND (t.tgtype & 16) = 0);
            -- the credential tables' update trigger hid and ignored its usage column (WHEN clause)
            args := (SELECT string_agg(quote_literal(
                                CASE WHEN t.has_when AND a IN ('last_used_at', 'last_seen_at') THEN 'ignore:' || a
                                     ELSE a END), ', ')
                       FROM unnest(t.argv) AS a);
            EXECUTE 'CREATE TRIGGER ' || quote_ident('lotline_audit_' || op)
                 || ' AFTER ' || upper(op) || ' ON ' || t.tbl::text
                 || CASE op WHEN 'insert' THEN ' REFERENCING NEW TABLE AS lotline_new'
                            WHEN 'delete' THEN ' REFERENCING OLD TABLE AS lotline_old'
                            ELSE ' REFERENCING OLD TABLE AS lotline_old NEW TABLE AS lotline_new' END
                 || ' FOR EACH STATEMENT EXECUTE FUNCTION lotline_audit_statement(' || coalesce(args, '') || ')';
        END LOOP;
    END LOOP;
END
$$;
