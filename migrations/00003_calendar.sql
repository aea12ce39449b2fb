-- +goose Up
-- Calendar feeds (docs/calendar.md).

-- LAST-MODIFIED of an event in calendars: moves with events.sequence, which
-- event.Service raises on every change a calendar shows. cancelled_at starts
-- the window in which a cancelled event stays in feeds.
ALTER TABLE events
    ADD COLUMN calendar_changed_at timestamptz,
    ADD COLUMN cancelled_at timestamptz;
UPDATE events SET calendar_changed_at = updated_at,
                  cancelled_at = CASE WHEN status = 'cancelled' THEN updated_at END;
ALTER TABLE events
    ALTER COLUMN calendar_changed_at SET DEFAULT now(),
    ALTER COLUMN calendar_changed_at SET NOT NULL;
CREATE INDEX events_ends ON events (ends_at);

-- A personal feed shows a registration's status, so its SEQUENCE is the
-- event's plus calendar_sequence, which rises on every status change. A
-- trigger keeps it, because status changes come from many writers (sign-up,
-- cancellation, promotion, hold expiry, retention) and one missed bump would
-- leave Google with a stale entry.
ALTER TABLE registrations
    ADD COLUMN calendar_sequence integer NOT NULL DEFAULT 0,
    ADD COLUMN calendar_changed_at timestamptz;
UPDATE registrations SET calendar_changed_at = updated_at;
ALTER TABLE registrations
    ALTER COLUMN calendar_changed_at SET DEFAULT now(),
    ALTER COLUMN calendar_changed_at SET NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION registrations_calendar_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.calendar_sequence := OLD.calendar_sequence + 1;
    NEW.calendar_changed_at := now();
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER registrations_calendar_bump
    BEFORE UPDATE OF status ON registrations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION registrations_calendar_bump();

-- A personal feed: the registrations whose manage links were used to add
-- them. The link's token is HMAC(secret, nonce) and only its SHA-256 is
-- stored; "new link" replaces nonce and hash, so the old token stops working.
CREATE TABLE calendar_feeds (
    id          bigserial PRIMARY KEY,
    nonce       bytea NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    renewed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE calendar_feed_registrations (
    registration_id  bigint PRIMARY KEY REFERENCES registrations(id) ON DELETE CASCADE,
    feed_id          bigint NOT NULL REFERENCES calendar_feeds(id) ON DELETE CASCADE,
    added_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calendar_feed_registrations_feed ON calendar_feed_registrations (feed_id);

-- Secrets the application generates for itself when the operator set none
-- (SECRET_KEY empty, in development).
CREATE TABLE app_secrets (
    name        text PRIMARY KEY,
    value       bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE app_secrets;
DROP TABLE calendar_feed_registrations;
DROP TABLE calendar_feeds;
DROP TRIGGER registrations_calendar_bump ON registrations;
DROP FUNCTION registrations_calendar_bump();
ALTER TABLE registrations DROP COLUMN calendar_changed_at, DROP COLUMN calendar_sequence;
DROP INDEX events_ends;
ALTER TABLE events DROP COLUMN cancelled_at, DROP COLUMN calendar_changed_at;
