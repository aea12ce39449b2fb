-- +goose Up
-- Messages from organisers to the registrants of an event (issue 19,
-- docs/organisers.md): the text per language, whom it was for, and who
-- sent it. Each recipient's email is an ordinary outbox row (kind
-- 'message', rendered when sent) that names its message in message_ref,
-- so the delivery counts are read from the outbox.
CREATE TABLE messages (
    id               bigserial PRIMARY KEY,
    event_id         bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    subject          jsonb NOT NULL,
    body             jsonb NOT NULL,
    to_status        text[] NOT NULL,
    to_sessions      text[] NOT NULL DEFAULT '{}',
    -- The client's key: the same key again for the event answers the first
    -- message and sends nothing. NULL keys never collide.
    idempotency_key  text,
    -- Who sent it, as the audit log names actors (an email or an API token).
    sender           text NOT NULL,
    recipients       integer NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, idempotency_key)
);
CREATE INDEX messages_event ON messages (event_id, id);

-- No foreign key, as for event_id: an outbox insert must not lock rows of
-- other tables (docs/mail.md).
ALTER TABLE mail_outbox ADD COLUMN message_ref bigint;
CREATE INDEX mail_outbox_message ON mail_outbox (message_ref) WHERE message_ref IS NOT NULL;

-- +goose Down
DROP INDEX mail_outbox_message;
ALTER TABLE mail_outbox DROP COLUMN message_ref;
DROP TABLE messages;
