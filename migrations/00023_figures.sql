-- +goose Up
-- Walk-ins and figures for funders that outlive erasure (issue 21,
-- docs/organisers.md "Figures").
--
-- Retention (internal/registration/retention.go) blanks names, addresses,
-- answers, birth dates and member numbers; the figures must come out the
-- same before and after. So what they need of those columns is kept, at
-- the moment the registration is written and in the same statement, in
-- columns retention never touches: the age band at the event's start (from
-- the birth date, NULL when none was given) and whether the registration
-- counts as a member's. Status, party size, language, tickets and
-- check-ins were kept by retention already.
ALTER TABLE registrations
    ADD COLUMN age_band text CHECK (age_band IN ('under_18', '18_21', '22_27', '28_plus')),
    ADD COLUMN member boolean NOT NULL DEFAULT false,
    -- Made at the door (POST /api/v1/checkin/walkin): confirmed and checked
    -- in at once, counted against the capacity like any other party.
    ADD COLUMN walk_in boolean NOT NULL DEFAULT false,
    -- Cancelled by "release no-shows": they had a place and did not come,
    -- which the no-show rate must still count after the cancellation.
    ADD COLUMN released_at timestamptz;
UPDATE registrations SET member = true WHERE member_number <> '';
UPDATE registrations r SET member = true FROM events e WHERE e.id = r.event_id AND e.access = 'members';
UPDATE registrations r SET age_band = CASE
        WHEN age < 18 THEN 'under_18' WHEN age <= 21 THEN '18_21' WHEN age <= 27 THEN '22_27' ELSE '28_plus' END
FROM (SELECT r2.id, date_part('year', age((e.starts_at AT TIME ZONE e.timezone)::date, r2.birth_date))::int AS age
      FROM registrations r2 JOIN events e ON e.id = r2.event_id WHERE r2.birth_date IS NOT NULL) a
WHERE a.id = r.id;

-- The waitlist's peak, kept by the trigger that keeps its length (00013):
-- the same UPDATE of the event row, so no writer pays a statement more.
ALTER TABLE events ADD COLUMN waitlist_peak integer NOT NULL DEFAULT 0;
UPDATE events SET waitlist_peak = waitlist_length;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION registrations_waitlist_length() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE events e SET waitlist_length = e.waitlist_length + d.n,
            waitlist_peak = GREATEST(e.waitlist_peak, e.waitlist_length + d.n)
        FROM (SELECT event_id, count(*) AS n FROM new_rows
              WHERE status = 'waitlisted' GROUP BY event_id) d
        WHERE e.id = d.event_id;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE events e SET waitlist_length = e.waitlist_length + d.n,
            waitlist_peak = GREATEST(e.waitlist_peak, e.waitlist_length + d.n)
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

-- A walk-in may come without an address: '' is no address, so it must not
-- count as one for the one-live-registration-per-address rule.
DROP INDEX registrations_one_live_per_email;
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON registrations (event_id, lower(email))
    WHERE status IN ('pending', 'confirmed', 'waitlisted') AND erased_at IS NULL AND email <> '';

-- +goose Down
DROP INDEX registrations_one_live_per_email;
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON registrations (event_id, lower(email))
    WHERE status IN ('pending', 'confirmed', 'waitlisted') AND erased_at IS NULL;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION registrations_waitlist_length() RETURNS trigger LANGUAGE plpgsql AS $$
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
ALTER TABLE events DROP COLUMN waitlist_peak;
ALTER TABLE registrations DROP COLUMN released_at, DROP COLUMN walk_in, DROP COLUMN member, DROP COLUMN age_band;
