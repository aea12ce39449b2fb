-- +goose Up
-- Selection by approval (issue 19): on such an event a sign-up is an
-- application ('applied', no seat taken) until an organiser approves it
-- (confirmed or waitlisted, under the event's lock as every seat is taken)
-- or declines it ('declined').
ALTER TABLE events ADD COLUMN approval boolean NOT NULL DEFAULT false;

ALTER TABLE registrations DROP CONSTRAINT registrations_status_check;
ALTER TABLE registrations ADD CONSTRAINT registrations_status_check
    CHECK (status IN ('pending', 'confirmed', 'waitlisted', 'cancelled', 'expired', 'applied', 'declined'));

-- An application is a live registration: the same address applying again
-- gets the first one back.
DROP INDEX registrations_one_live_per_email;
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON registrations (event_id, lower(email))
    WHERE status IN ('pending', 'confirmed', 'waitlisted', 'applied') AND erased_at IS NULL AND email <> '';

-- +goose Down
DROP INDEX registrations_one_live_per_email;
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON registrations (event_id, lower(email))
    WHERE status IN ('pending', 'confirmed', 'waitlisted') AND erased_at IS NULL AND email <> '';
ALTER TABLE registrations DROP CONSTRAINT registrations_status_check;
ALTER TABLE registrations ADD CONSTRAINT registrations_status_check
    CHECK (status IN ('pending', 'confirmed', 'waitlisted', 'cancelled', 'expired'));
ALTER TABLE events DROP COLUMN approval;
