-- +goose Up
-- The outbox renders at send time (docs/mail.md): a participant's email is
-- written in the change's transaction as one small row — who, which kind,
-- which registration and event, and in payload what cannot be read again
-- later (the registration's status and waitlist position at the time, the
-- plain secret of a confirmation link, the event as it was before a
-- change). The sender reads the registration, its tickets and the event
-- and renders subject, bodies, QR codes and calendar entry when it sends.
-- Staff emails, and rows written before this migration, keep their
-- rendered subject and bodies, and are sent as they are.
ALTER TABLE mail_outbox
    ALTER COLUMN subject SET DEFAULT '',
    ALTER COLUMN body_text SET DEFAULT '',
    ALTER COLUMN body_html SET DEFAULT '',
    ADD COLUMN payload jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE mail_outbox
    DROP COLUMN payload,
    ALTER COLUMN subject DROP DEFAULT,
    ALTER COLUMN body_text DROP DEFAULT,
    ALTER COLUMN body_html DROP DEFAULT;
