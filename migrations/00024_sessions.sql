-- +goose Up
-- Sessions inside an event: workshops, forums, groups (issue 18,
-- docs/organisers.md "Sessions").
--
-- A session's places obey the rule the event's seats obey (capacity.go):
-- seats_confirmed is the counter that every sign-up, cancellation and
-- promotion changes in the same transaction, and the CHECK constraint
-- refuses any value above the capacity, so that even a faulty writer cannot
-- oversell a workshop. Every writer of a session's counter holds the lock of
-- its event's row first (sign-up batches, cancellations, promotions, the
-- event's PATCH), so the counters are read and changed one transaction at a
-- time per event, whatever the number of instances.
ALTER TABLE events
    ADD COLUMN max_sessions integer CHECK (max_sessions BETWEEN 1 AND 50);

CREATE TABLE event_sessions (
    id               bigserial PRIMARY KEY,
    event_id         bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    key              text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    title            jsonb NOT NULL DEFAULT '{}',
    description      jsonb NOT NULL DEFAULT '{}',
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    room             text NOT NULL DEFAULT '',
    capacity         integer CHECK (capacity >= 0),
    waitlist         boolean NOT NULL DEFAULT true,
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
    position         integer NOT NULL,
    seats_confirmed  integer NOT NULL DEFAULT 0 CHECK (seats_confirmed >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, key),
    CONSTRAINT event_sessions_capacity_not_exceeded CHECK (capacity IS NULL OR seats_confirmed <= capacity),
    CONSTRAINT event_sessions_ends_after_start CHECK (ends_at >= starts_at)
);

CREATE SEQUENCE registration_session_waitlist_order;

-- A registration's choice of a session. 'requested' is the choice of a
-- registration that holds no places yet (waitlisted or pending): it is
-- decided when the registration is confirmed. 'confirmed' holds party_size
-- places of the session's counter; 'waitlisted' waits in waitlist_order;
-- 'cancelled' is a choice given up (the participant left the session, the
-- registration was cancelled, or the session was full when it was decided).
CREATE TABLE registration_sessions (
    registration_id  bigint NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    session_id       bigint NOT NULL REFERENCES event_sessions(id),
    status           text NOT NULL CHECK (status IN ('requested', 'confirmed', 'waitlisted', 'cancelled')),
    waitlist_order   bigint NOT NULL DEFAULT nextval('registration_session_waitlist_order'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registration_id, session_id)
);
CREATE INDEX registration_sessions_session ON registration_sessions (session_id, status);
CREATE INDEX registration_sessions_waitlist
    ON registration_sessions (session_id, waitlist_order)
    WHERE status = 'waitlisted';

-- Check-in into a session: each ticket at most once per session.
CREATE TABLE session_checkins (
    ticket_id      bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    session_id     bigint NOT NULL REFERENCES event_sessions(id) ON DELETE CASCADE,
    checked_in_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, session_id)
);

-- The personal feed has one VEVENT per session a registration holds a place
-- in (internal/calendar): its SEQUENCE is the session's plus the choice's,
-- each raised by a trigger on every change a calendar shows, as for
-- registrations (00003), so that no writer can forget it.
ALTER TABLE event_sessions
    ADD COLUMN calendar_sequence integer NOT NULL DEFAULT 0,
    ADD COLUMN calendar_changed_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE registration_sessions
    ADD COLUMN calendar_sequence integer NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION event_sessions_calendar_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.calendar_sequence := OLD.calendar_sequence + 1;
    NEW.calendar_changed_at := now();
    RETURN NEW;
END
$$;
CREATE FUNCTION registration_sessions_calendar_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.calendar_sequence := OLD.calendar_sequence + 1;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER event_sessions_calendar_bump
    BEFORE UPDATE ON event_sessions
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description
        OR OLD.starts_at IS DISTINCT FROM NEW.starts_at OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
        OR OLD.room IS DISTINCT FROM NEW.room OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION event_sessions_calendar_bump();
CREATE TRIGGER registration_sessions_calendar_bump
    BEFORE UPDATE OF status ON registration_sessions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION registration_sessions_calendar_bump();

-- A scan at a session's door is logged like any other, with the session;
-- a ticket whose holder did not choose the session is not_in_session.
ALTER TABLE checkin_scans
    ADD COLUMN session_id bigint REFERENCES event_sessions(id) ON DELETE SET NULL,
    DROP CONSTRAINT checkin_scans_verdict_check,
    ADD CONSTRAINT checkin_scans_verdict_check
        CHECK (verdict IN ('ok', 'already_checked_in', 'unknown', 'cancelled', 'wrong_event', 'not_today', 'undone', 'not_in_session'));

-- +goose Down
DELETE FROM checkin_scans WHERE verdict = 'not_in_session';
ALTER TABLE checkin_scans
    DROP COLUMN session_id,
    DROP CONSTRAINT checkin_scans_verdict_check,
    ADD CONSTRAINT checkin_scans_verdict_check
        CHECK (verdict IN ('ok', 'already_checked_in', 'unknown', 'cancelled', 'wrong_event', 'not_today', 'undone'));
DROP TABLE session_checkins;
DROP TRIGGER registration_sessions_calendar_bump ON registration_sessions;
DROP TRIGGER event_sessions_calendar_bump ON event_sessions;
DROP FUNCTION registration_sessions_calendar_bump();
DROP FUNCTION event_sessions_calendar_bump();
DROP TABLE registration_sessions;
DROP SEQUENCE registration_session_waitlist_order;
DROP TABLE event_sessions;
ALTER TABLE events DROP COLUMN max_sessions;
