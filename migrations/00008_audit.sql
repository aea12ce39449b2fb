-- +goose Up
-- The audit log (docs/operations.md): what staff did, for the owners of the
-- organisation. Written in the action's own transaction where the action
-- has one, so that no change goes unrecorded and no record claims a change
-- that was rolled back. It names people by staff account only: an erased
-- participant appears as a registration id, never by name or address.
CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    -- NULL for actions of the network as a whole.
    org_id          bigint REFERENCES organisations(id) ON DELETE CASCADE,
    -- Who: a staff account or an API token (both kept as text in actor,
    -- which survives the account's or token's removal).
    actor_user_id   bigint REFERENCES staff_users(id) ON DELETE SET NULL,
    actor_token_id  bigint REFERENCES api_tokens(id) ON DELETE SET NULL,
    actor           text NOT NULL,
    -- What: events.create, events.update, registrations.export, … (see docs).
    action          text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    -- Which: an event slug, a staff email, a token name, a registration id.
    target          text NOT NULL DEFAULT '',
    details         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_org_newest ON audit_log (org_id, id DESC);

-- +goose Down
DROP TABLE audit_log;
