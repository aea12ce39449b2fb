-- +goose Up
-- Notifications count applications apart from sign-ups (issue 19): on an
-- event with selection by approval a sign-up is an application, and its
-- approval is no new sign-up. applied_at marks a registration that was an
-- application (set when it becomes one), decided_at when an organiser
-- approved or declined it; both only ever go from NULL to a time, so the
-- counts the notification worker reads from them only rise. They hold no
-- personal data and survive erasure.
ALTER TABLE registrations
    ADD COLUMN applied_at timestamptz,
    ADD COLUMN decided_at timestamptz;
UPDATE registrations SET applied_at = created_at WHERE status IN ('applied', 'declined');
UPDATE registrations SET decided_at = updated_at WHERE status = 'declined';

-- The worker's memory of them, as of notify_events' other counts. Events
-- watched already start from what they have, so that the first round
-- after the upgrade reports no old applications as new.
ALTER TABLE notify_events
    ADD COLUMN applications integer NOT NULL DEFAULT 0,
    ADD COLUMN approvals integer NOT NULL DEFAULT 0,
    ADD COLUMN declines integer NOT NULL DEFAULT 0;
UPDATE notify_events n SET
    applications = (SELECT count(*) FROM registrations r WHERE r.event_id = n.event_id AND r.applied_at IS NOT NULL),
    declines = (SELECT count(*) FROM registrations r WHERE r.event_id = n.event_id AND r.status = 'declined');

-- +goose Down
ALTER TABLE notify_events DROP COLUMN applications, DROP COLUMN approvals, DROP COLUMN declines;
ALTER TABLE registrations DROP COLUMN applied_at, DROP COLUMN decided_at;
