-- +goose Up
-- The transactional outbox (docs/mail.md): every email a change causes is
-- written here in the change's own transaction, rendered, and sent by the
-- sender in `treffpunkt serve` after the commit.
CREATE TABLE mail_outbox (
    id               bigserial PRIMARY KEY,
    -- The Message-ID header, fixed at enqueue: a resend is the same message.
    message_id       text NOT NULL UNIQUE,
    -- Which template (mailtemplates/{kind}.{lang}.*); not a CHECK, so that
    -- new kinds need no migration.
    kind             text NOT NULL,
    lang             text NOT NULL,
    recipient        text NOT NULL,
    recipient_name   text NOT NULL DEFAULT '',
    -- The organisation's address, so that replies reach the organisers.
    reply_to         text NOT NULL DEFAULT '',
    -- For the organisers' view of each registration's mail state. No foreign
    -- key to events: the reminder job inserts here while it holds
    -- registration rows, and a key-share lock on the event row could then
    -- deadlock with a cancellation that holds the event and waits for them.
    registration_id  bigint REFERENCES registrations(id) ON DELETE CASCADE,
    event_id         bigint,
    subject          text NOT NULL,
    body_text        text NOT NULL,
    body_html        text NOT NULL,
    -- An iCalendar object (METHOD:PUBLISH) attached as text/calendar, or ''.
    calendar         text NOT NULL DEFAULT '',
    -- Texts drawn as inline PNG QR codes (cid:qr-1.png, qr-2.png, …).
    qr               text[] NOT NULL DEFAULT '{}',
    -- queued → sending (claimed; next_attempt_at is then the claim's lease
    -- expiry, after which another sender may take it) → sent | failed.
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE status IN ('queued', 'sending');
CREATE INDEX mail_outbox_registration ON mail_outbox (registration_id) WHERE registration_id IS NOT NULL;

-- The reminder the day before goes out once per registration.
ALTER TABLE registrations ADD COLUMN reminded_at timestamptz;

-- +goose Down
ALTER TABLE registrations DROP COLUMN reminded_at;
DROP TABLE mail_outbox;
