-- Back to 0031's lotline_audit_statement() with 0033's SET clause (migration 0035's downgrade).

CREATE OR REPLACE FUNCTION lotline_audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
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

ALTER FUNCTION lotline_audit_statement() SET enable_nestloop = off;
