-- +goose Up
-- A series is a template and a set of dates (issue 20). Each date is an
-- ordinary event with its own capacity, sign-ups, waitlist and door; the
-- series only remembers which events are its dates, so that a change of the
-- template can reach the future ones. template is the event input as the
-- organiser sent it (without slug and times), merged key by key on PATCH.
CREATE TABLE series (
    id          bigserial PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES organisations(id),
    -- 69 characters leave room for "-YYYY-MM-DD" in an event slug (80).
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,68}$'),
    template    jsonb NOT NULL DEFAULT '{}',
    rrule       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- edited_alone: the date was changed on its own (the event's editor or
-- PATCH …/events/{slug}); a change of the template leaves it as it is.
CREATE TABLE series_events (
    series_id     bigint NOT NULL REFERENCES series(id),
    event_id      bigint NOT NULL UNIQUE REFERENCES events(id),
    edited_alone  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (series_id, event_id)
);

-- +goose Down
DROP TABLE series_events;
DROP TABLE series;
