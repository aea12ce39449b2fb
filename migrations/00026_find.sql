-- +goose Up
-- Finding events (issue 20, docs/organisers.md "Accessibility facts",
-- docs/api.md "Search"): what a venue offers, the languages spoken at an
-- event and where the venue is on a map.

-- A venue's facts are true, false or NULL (not known): "no step-free
-- entrance" and "nobody said" are different answers to a wheelchair user.
ALTER TABLE venues
    ADD COLUMN step_free         boolean,
    ADD COLUMN accessible_toilet boolean,
    ADD COLUMN hearing_loop      boolean,
    ADD COLUMN lat double precision CHECK (lat BETWEEN -90 AND 90),
    ADD COLUMN lon double precision CHECK (lon BETWEEN -180 AND 180),
    ADD CONSTRAINT venues_lat_lon_together CHECK ((lat IS NULL) = (lon IS NULL));

ALTER TABLE events
    -- Languages spoken at the event (not the languages of its texts).
    ADD COLUMN languages     text[] NOT NULL DEFAULT '{}',
    -- Languages interpreted into, sign language, childcare on site.
    ADD COLUMN interpreting  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN sign_language boolean NOT NULL DEFAULT false,
    ADD COLUMN childcare     boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE events DROP COLUMN childcare, DROP COLUMN sign_language, DROP COLUMN interpreting, DROP COLUMN languages;
ALTER TABLE venues DROP CONSTRAINT venues_lat_lon_together, DROP COLUMN lon, DROP COLUMN lat,
    DROP COLUMN hearing_loop, DROP COLUMN accessible_toilet, DROP COLUMN step_free;
