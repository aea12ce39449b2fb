-- +goose Up
-- Partner organisations of an event (docs/access.md): on a members-only
-- event the member lists of the presenting organisation and of its
-- partners are consulted. position keeps the order the organiser gave.
CREATE TABLE event_partners (
    event_id  bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    org_id    bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    position  integer NOT NULL,
    PRIMARY KEY (event_id, org_id)
);
CREATE INDEX event_partners_org ON event_partners (org_id);

-- Retention blanks the scanned text of check-in scans; this finds the
-- scans of an event that still carry one.
CREATE INDEX checkin_scans_event_code ON checkin_scans (event_id) WHERE code <> '';

-- +goose Down
DROP INDEX checkin_scans_event_code;
DROP TABLE event_partners;
