-- +goose Up
-- Access rules (docs/access.md): members-only events and email confirmation
-- put a sign-up through `pending` until the confirmation link is followed.
--
-- events.seats_confirmed keeps counting every seat that is taken: confirmed
-- seats and the seats held for pending registrations (registrations.seats_held),
-- so that the one CHECK constraint events_capacity_not_exceeded covers
-- confirmed + held <= capacity.
ALTER TABLE events ADD COLUMN confirm_email boolean NOT NULL DEFAULT false;

-- confirm_token_hash is the SHA-256 of the link's secret (the link is mailed
-- once and never re-sent with the same secret). seats_held is what a pending
-- registration holds in events.seats_confirmed: its party size when the
-- seats fitted at sign-up, else 0 (it joins the waitlist once confirmed).
ALTER TABLE registrations
    ADD COLUMN confirm_token_hash bytea UNIQUE,
    ADD COLUMN hold_expires_at timestamptz,
    ADD COLUMN seats_held integer NOT NULL DEFAULT 0 CHECK (seats_held >= 0),
    ADD COLUMN erased_at timestamptz;
CREATE INDEX registrations_hold_expiry ON registrations (hold_expires_at) WHERE status = 'pending';

-- Retention blanks the email of every registration of an event, live ones
-- included: erased rows leave the one-live-registration-per-email rule.
DROP INDEX registrations_one_live_per_email;
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON registrations (event_id, lower(email))
    WHERE status IN ('pending', 'confirmed', 'waitlisted') AND erased_at IS NULL;
CREATE INDEX registrations_not_erased ON registrations (event_id) WHERE erased_at IS NULL;

-- +goose Down
DROP INDEX registrations_not_erased;
DROP INDEX registrations_one_live_per_email;
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON registrations (event_id, lower(email))
    WHERE status IN ('pending', 'confirmed', 'waitlisted');
DROP INDEX registrations_hold_expiry;
ALTER TABLE registrations
    DROP COLUMN confirm_token_hash,
    DROP COLUMN hold_expires_at,
    DROP COLUMN seats_held,
    DROP COLUMN erased_at;
ALTER TABLE events DROP COLUMN confirm_email;
