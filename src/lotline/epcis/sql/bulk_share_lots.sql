-- Purpose: status and expiry of the existing lots a bulk chunk takes from, locked FOR SHARE in id
--   order (after their balance rows), as rules.lock_lots locks them: a concurrent status change
--   waits for us, or we see its result.
-- Parameters: ids uuid[].
-- Output: id, status, expires_at.
SELECT id, status, expires_at
  FROM lots
 WHERE id = ANY (%(ids)s::uuid[])
 ORDER BY id
   FOR SHARE
