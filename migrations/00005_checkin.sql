-- +goose Up
-- Door check-in (docs/checkin.md). A ticket is checked in at most once per
-- event day: the partial unique index makes that true by construction, for
-- any number of scanners and app instances. An undone check-in keeps its row
-- (undone_at set) and no longer counts.
CREATE TABLE checkins (
    id             bigserial PRIMARY KEY,
    ticket_id      bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    event_id       bigint NOT NULL REFERENCES events(id),
    -- The event day in the event's time zone (see checkin.EventDay).
    day            date NOT NULL,
    checked_in_at  timestamptz NOT NULL DEFAULT now(),
    by_user_id     bigint REFERENCES staff_users(id) ON DELETE SET NULL,
    by_token_id    bigint REFERENCES api_tokens(id) ON DELETE SET NULL,
    undone_at      timestamptz,
    undone_by_user_id   bigint REFERENCES staff_users(id) ON DELETE SET NULL,
    undone_by_token_id  bigint REFERENCES api_tokens(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX checkins_once_per_day ON checkins (ticket_id, day) WHERE undone_at IS NULL;
CREATE INDEX checkins_event_day ON checkins (event_id, day) WHERE undone_at IS NULL;

-- Every scan, whatever its verdict. scan_id is the client's id of the scan
-- (the offline queue's crypto.randomUUID()): a scan synced twice has one
-- effect. code is the scanned text as given, cut to 200 characters.
CREATE TABLE checkin_scans (
    id           bigserial PRIMARY KEY,
    scan_id      text UNIQUE CHECK (length(scan_id) BETWEEN 1 AND 64),
    code         text NOT NULL,
    ticket_id    bigint REFERENCES tickets(id) ON DELETE SET NULL,
    event_id     bigint NOT NULL REFERENCES events(id),
    day          date NOT NULL,
    by_user_id   bigint REFERENCES staff_users(id) ON DELETE SET NULL,
    by_token_id  bigint REFERENCES api_tokens(id) ON DELETE SET NULL,
    verdict      text NOT NULL CHECK (verdict IN ('ok', 'already_checked_in', 'unknown', 'cancelled', 'wrong_event', 'not_today', 'undone')),
    scanned_at   timestamptz NOT NULL DEFAULT now(),
    -- When the scan happened on the device, for scans synced later.
    client_at    timestamptz
);
CREATE INDEX checkin_scans_event ON checkin_scans (event_id, scanned_at);

-- The door's search by name and the attendee counts go by event.
CREATE INDEX tickets_event ON tickets (event_id);

-- +goose Down
DROP INDEX tickets_event;
DROP TABLE checkin_scans;
DROP TABLE checkins;
