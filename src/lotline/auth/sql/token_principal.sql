-- A bearer token by the SHA-256 of its secret, with its user and the user's roles: everything
-- resolving a token needs, in one round trip (every API request makes it).
--
-- Parameters: token_hash bytea
-- Output: token_id, token_prefix, revoked_at, expires_at, last_used_at, user_id, user_name,
--         full_name, active, roles (text[], NULL for a user without roles) — one row, or none
--         for an unknown hash (token_hash is unique).
SELECT t.id AS token_id, t.token_prefix, t.revoked_at, t.expires_at, t.last_used_at,
       u.id AS user_id, u.name AS user_name, u.full_name, u.active,
       (SELECT array_agg(r.role) FROM user_roles r WHERE r.user_id = u.id) AS roles
  FROM api_tokens t
  JOIN users u ON u.id = t.user_id
 WHERE t.token_hash = %(token_hash)s::bytea
