-- +goose Up
-- A session's waitlist length, confirmed registrations and choices, kept on
-- its row as the event's waitlist length is (00013). The sign-up batch reads
-- them under the event's lock; counting registration_sessions instead cost a
-- scan per batch that grew with the rush (three counts per session, twice
-- per batch): with two sessions per sign-up PostgreSQL spent twice the time
-- of a sign-up without sessions. Statement-level triggers keep them, so no
-- writer (sign-up, promotion, leaving, changing, cancelling, erasure's
-- cascades) can forget one; every writer of registration_sessions holds the
-- event's lock, so the trigger's UPDATE of the session rows never waits on
-- another transaction.
ALTER TABLE event_sessions
    ADD COLUMN waitlist_length integer NOT NULL DEFAULT 0
        CONSTRAINT event_sessions_waitlist_length_not_negative CHECK (waitlist_length >= 0),
    ADD COLUMN confirmed_count integer NOT NULL DEFAULT 0
        CONSTRAINT event_sessions_confirmed_count_not_negative CHECK (confirmed_count >= 0),
    ADD COLUMN choices integer NOT NULL DEFAULT 0
        CONSTRAINT event_sessions_choices_not_negative CHECK (choices >= 0);
UPDATE event_sessions s SET
    waitlist_length = (SELECT count(*) FROM registration_sessions rs WHERE rs.session_id = s.id AND rs.status = 'waitlisted'),
    confirmed_count = (SELECT count(*) FROM registration_sessions rs WHERE rs.session_id = s.id AND rs.status = 'confirmed'),
    choices = (SELECT count(*) FROM registration_sessions rs WHERE rs.session_id = s.id);

-- +goose StatementBegin
CREATE FUNCTION registration_sessions_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE event_sessions s SET waitlist_length = s.waitlist_length + d.w,
               confirmed_count = s.confirmed_count + d.c, choices = s.choices + d.n
        FROM (SELECT session_id, count(*) FILTER (WHERE status = 'waitlisted') AS w,
                     count(*) FILTER (WHERE status = 'confirmed') AS c, count(*) AS n
              FROM new_rows GROUP BY session_id) d
        WHERE s.id = d.session_id;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE event_sessions s SET waitlist_length = s.waitlist_length + d.w,
               confirmed_count = s.confirmed_count + d.c
        FROM (SELECT session_id, sum(w) AS w, sum(c) AS c FROM (
                  SELECT session_id, (status = 'waitlisted')::int AS w, (status = 'confirmed')::int AS c FROM new_rows
                  UNION ALL
                  SELECT session_id, -(status = 'waitlisted')::int, -(status = 'confirmed')::int FROM old_rows) x
              GROUP BY session_id HAVING sum(w) <> 0 OR sum(c) <> 0) d
        WHERE s.id = d.session_id;
    ELSE
        UPDATE event_sessions s SET waitlist_length = s.waitlist_length - d.w,
               confirmed_count = s.confirmed_count - d.c, choices = s.choices - d.n
        FROM (SELECT session_id, count(*) FILTER (WHERE status = 'waitlisted') AS w,
                     count(*) FILTER (WHERE status = 'confirmed') AS c, count(*) AS n
              FROM old_rows GROUP BY session_id) d
        WHERE s.id = d.session_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER registration_sessions_counters_ins AFTER INSERT ON registration_sessions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registration_sessions_counters();
CREATE TRIGGER registration_sessions_counters_upd AFTER UPDATE ON registration_sessions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registration_sessions_counters();
CREATE TRIGGER registration_sessions_counters_del AFTER DELETE ON registration_sessions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registration_sessions_counters();

-- +goose Down
DROP TRIGGER registration_sessions_counters_del ON registration_sessions;
DROP TRIGGER registration_sessions_counters_upd ON registration_sessions;
DROP TRIGGER registration_sessions_counters_ins ON registration_sessions;
DROP FUNCTION registration_sessions_counters();
ALTER TABLE event_sessions DROP COLUMN waitlist_length, DROP COLUMN confirmed_count, DROP COLUMN choices;
