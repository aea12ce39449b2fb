-- +goose Up
-- The organisers' area (docs/organisers.md): staff sessions, one-time
-- password links, network-admin tokens and member lists.

-- Server-side sessions of alexedwards/scs (postgresstore's schema). The
-- token column holds the SHA-256 of the cookie's token (HashTokenInStore),
-- so a leaked table grants nothing.
CREATE TABLE sessions (
    token   text PRIMARY KEY,
    data    bytea NOT NULL,
    expiry  timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- session_version is copied into a session at login; raising it (password
-- set or reset) ends every other session of the account at its next request.
-- password_set is false for an invited account until its owner sets one.
ALTER TABLE staff_users
    ADD COLUMN session_version integer NOT NULL DEFAULT 1,
    ADD COLUMN password_set boolean NOT NULL DEFAULT true;

-- One-time links that let a person set a password: a reset asked for at
-- /login/reset, or the invitation of new staff. Stored as SHA-256 only.
CREATE TABLE password_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('reset', 'invite')),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_tokens_user ON password_tokens (user_id);
CREATE INDEX password_tokens_expires ON password_tokens (expires_at);

-- A network-admin token may act, as owner, on every organisation; org_id is
-- where it was issued.
ALTER TABLE api_tokens ADD COLUMN is_admin boolean NOT NULL DEFAULT false;

-- An organisation's member list. member_key identifies a member across
-- uploads: 'n:' || member_number when there is one, else 'e:' || lower(email).
CREATE TABLE members (
    id             bigserial PRIMARY KEY,
    org_id         bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email          text NOT NULL DEFAULT '',
    member_number  text NOT NULL DEFAULT '',
    valid_until    date,
    member_key     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT members_key_present CHECK (email <> '' OR member_number <> ''),
    UNIQUE (org_id, member_key)
);
CREATE INDEX members_org_email ON members (org_id, lower(email)) WHERE email <> '';
CREATE INDEX members_org_number ON members (org_id, member_number) WHERE member_number <> '';

-- +goose Down
DROP TABLE members;
ALTER TABLE api_tokens DROP COLUMN is_admin;
DROP TABLE password_tokens;
ALTER TABLE staff_users DROP COLUMN password_set, DROP COLUMN session_version;
DROP TABLE sessions;
