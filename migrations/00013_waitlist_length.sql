-- +goose Up
-- The waitlist's length, kept on the event row. A sign-up that joins the
-- waitlist learns its position from it under the event's lock; counting the
-- waitlisted rows instead costs a scan per sign-up batch that grows with the
-- waitlist (tens of thousands of rows in a rush). Statement-level triggers
-- keep it, because registrations change status from many writers (sign-up,
-- confirmation, cancellation, promotion, hold expiry); every such writer
-- holds the event's lock, so the trigger's UPDATE of the event row never
-- waits on another transaction.
ALTER TABLE events ADD COLUMN waitlist_length integer NOT NULL DEFAULT 0
    CONSTRAINT events_waitlist_length_not_negative CHECK (waitlist_length >= 0);
UPDATE events e SET waitlist_length = w.n
FROM (SELECT event_id, count(*) AS n FROM registrations WHERE status = 'waitlisted' GROUP BY event_id) w
WHERE w.event_id = e.id;

-- +goose StatementBegin
CREATE FUNCTION registrations_waitlist_length() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE events e SET waitlist_length = e.waitlist_length + d.n
        FROM (SELECT event_id, count(*) AS n FROM new_rows
              WHERE status = 'waitlisted' GROUP BY event_id) d
        WHERE e.id = d.event_id;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE events e SET waitlist_length = e.waitlist_length + d.n
        FROM (SELECT event_id, sum(delta) AS n FROM (
                  SELECT event_id, 1 AS delta FROM new_rows WHERE status = 'waitlisted'
                  UNION ALL
                  SELECT event_id, -1 FROM old_rows WHERE status = 'waitlisted') x
              GROUP BY event_id HAVING sum(delta) <> 0) d
        WHERE e.id = d.event_id;
    ELSE
        UPDATE events e SET waitlist_length = e.waitlist_length - d.n
        FROM (SELECT event_id, count(*) AS n FROM old_rows
              WHERE status = 'waitlisted' GROUP BY event_id) d
        WHERE e.id = d.event_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER registrations_waitlist_length_ins AFTER INSERT ON registrations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registrations_waitlist_length();
CREATE TRIGGER registrations_waitlist_length_upd AFTER UPDATE ON registrations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registrations_waitlist_length();
CREATE TRIGGER registrations_waitlist_length_del AFTER DELETE ON registrations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registrations_waitlist_length();

-- +goose Down
DROP TRIGGER registrations_waitlist_length_del ON registrations;
DROP TRIGGER registrations_waitlist_length_upd ON registrations;
DROP TRIGGER registrations_waitlist_length_ins ON registrations;
DROP FUNCTION registrations_waitlist_length();
ALTER TABLE events DROP COLUMN waitlist_length;
