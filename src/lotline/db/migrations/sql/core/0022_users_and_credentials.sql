-- Users, their roles, API tokens and web sessions (issue 12).
--
-- Invariants:
--   * a user is never deleted (audit entries and signatures name them); disabling sets active = false
--     and disabled_at;
--   * secrets are never stored: password_hash is Argon2id (PHC string), token_hash and
--     session_hash are SHA-256 of 256-bit random values (a fast hash is enough for values that
--     cannot be guessed, and it lets the credential be found by its hash);
--   * token_prefix is the first characters of the token, shown in listings to identify it;
--   * roles are a closed set; what each role may do is the table in lotline/auth/permissions.py.

CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL,
    full_name           text NOT NULL,
    email               text,
    active              boolean NOT NULL DEFAULT true,
    password_hash       text,
    password_changed_at timestamptz,
    failed_sign_ins     integer NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    disabled_at         timestamptz,
    CONSTRAINT users_name_key UNIQUE (name),
    CONSTRAINT users_name_check CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    CONSTRAINT users_full_name_check CHECK (length(btrim(full_name)) > 0),
    CONSTRAINT users_disabled_check CHECK (active OR disabled_at IS NOT NULL),
    CONSTRAINT users_failed_sign_ins_check CHECK (failed_sign_ins >= 0)
);

CREATE TABLE user_roles (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id),
    role       text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_roles_role_check CHECK (role IN ('viewer', 'operator', 'quality', 'analyst', 'admin')),
    CONSTRAINT user_roles_user_role_key UNIQUE (user_id, role)
);

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id),
    name         text NOT NULL,
    token_prefix text NOT NULL,
    token_hash   bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT api_tokens_name_check CHECK (length(btrim(name)) > 0),
    CONSTRAINT api_tokens_hash_length_check CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE web_sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id),
    session_hash bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    user_agent   text,
    CONSTRAINT web_sessions_session_hash_key UNIQUE (session_hash),
    CONSTRAINT web_sessions_hash_length_check CHECK (octet_length(session_hash) = 32)
);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);
