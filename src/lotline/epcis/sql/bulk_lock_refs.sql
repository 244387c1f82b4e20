-- Purpose: serialise the bulk chunk poster with every posting that shares one of its external
--   references (the same advisory lock key as inventory.claim_external_ref: '<kind>:<ref>'), held
--   until commit; taken in key order so two chunks cannot deadlock on each other's references.
-- Parameters: keys text[] ('movement:<ref>', 'execution:<ref>', 'shipment:<ref>').
-- Output: one row per key (void).
-- Invariants: the references' lookup (bulk_taken) runs after this statement, so it sees every
--   posting under them that committed before us.
SELECT pg_advisory_xact_lock(hashtextextended(k.key, 0))
  FROM (SELECT key FROM unnest(%(keys)s::text[]) AS u(key) ORDER BY key) AS k
