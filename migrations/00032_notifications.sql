-- +goose Up
-- Notifications for the presenting organisation (issue 19,
-- docs/organisers.md): per organisation whether and how its people are
-- told of sign-ups, cancellations, promotions and full events.
ALTER TABLE organisations
    ADD COLUMN notify text NOT NULL DEFAULT 'off' CHECK (notify IN ('off', 'each', 'daily')),
    -- '' is the organisation's own address.
    ADD COLUMN notify_email text NOT NULL DEFAULT '',
    -- '' is DEFAULT_LANG.
    ADD COLUMN lang text NOT NULL DEFAULT '',
    -- Where the daily digest's 07:00 is.
    ADD COLUMN timezone text NOT NULL DEFAULT 'Europe/Berlin',
    -- When notify last changed: events created since are watched from
    -- their first sign-up on, older ones from when they are first seen.
    ADD COLUMN notify_since timestamptz NOT NULL DEFAULT now();

-- The notification worker's memory per event (package notify): the
-- event's counts when the organisation was last told (or when watching
-- began), and when it was last mailed. The worker compares the counts it
-- reads now with these, so it needs no hook in any sign-up path and loses
-- nothing to a crash: the counts and the mail are written in one
-- transaction.
CREATE TABLE notify_events (
    event_id       bigint PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    signups        integer NOT NULL,
    cancellations  integer NOT NULL,
    promotions     integer NOT NULL,
    full_          boolean NOT NULL,
    mailed_at      timestamptz
);

-- When each organisation's last daily digest went out.
CREATE TABLE notify_digests (
    org_id   bigint PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    sent_at  timestamptz NOT NULL
);

-- Promotions are counted from their emails (each is one party moved up).
CREATE INDEX mail_outbox_promoted ON mail_outbox (event_id) WHERE kind = 'promoted';

-- +goose Down
DROP INDEX mail_outbox_promoted;
DROP TABLE notify_digests;
DROP TABLE notify_events;
ALTER TABLE organisations DROP COLUMN notify, DROP COLUMN notify_email, DROP COLUMN lang,
    DROP COLUMN timezone, DROP COLUMN notify_since;
