-- +goose Up
CREATE TABLE organisations (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       text NOT NULL DEFAULT '',
    address     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff_users (
    id             bigserial PRIMARY KEY,
    email          text NOT NULL,
    password_hash  text NOT NULL,
    is_admin       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_users_email_key ON staff_users (lower(email));

CREATE TABLE staff_roles (
    user_id  bigint NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    org_id   bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    role     text NOT NULL CHECK (role IN ('owner', 'organiser', 'door')),
    PRIMARY KEY (user_id, org_id)
);

-- API tokens are stored as SHA-256 of the token: a leaked table grants nothing.
CREATE TABLE api_tokens (
    id            bigserial PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    role          text NOT NULL CHECK (role IN ('owner', 'organiser', 'door')),
    name          text NOT NULL DEFAULT '',
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

CREATE TABLE venues (
    id                   bigserial PRIMARY KEY,
    org_id               bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name                 text NOT NULL,
    street               text NOT NULL DEFAULT '',
    postcode             text NOT NULL DEFAULT '',
    city                 text NOT NULL DEFAULT '',
    accessibility_notes  text NOT NULL DEFAULT '',
    UNIQUE (org_id, name, street, postcode, city)
);

-- The capacity rule lives on the event row: seats_confirmed is the counter that
-- every sign-up, cancellation and promotion changes while holding the row lock
-- (SELECT ... FOR UPDATE), and the CHECK constraint makes an oversell impossible
-- even for a buggy writer.
CREATE TABLE events (
    id                      bigserial PRIMARY KEY,
    org_id                  bigint NOT NULL REFERENCES organisations(id),
    slug                    text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,79}$'),
    kind                    text NOT NULL CHECK (kind IN ('conference', 'seminar', 'festival', 'workshop', 'meeting', 'other')),
    default_lang            text NOT NULL,
    title                   jsonb NOT NULL,
    description             jsonb NOT NULL DEFAULT '{}',
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    all_day                 boolean NOT NULL DEFAULT false,
    timezone                text NOT NULL DEFAULT 'Europe/Berlin',
    venue_id                bigint REFERENCES venues(id),
    status                  text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
    capacity                integer CHECK (capacity >= 0),
    waitlist                boolean NOT NULL DEFAULT true,
    registration_opens_at   timestamptz,
    registration_closes_at  timestamptz,
    max_party_size          integer NOT NULL DEFAULT 1 CHECK (max_party_size BETWEEN 1 AND 50),
    access                  text NOT NULL DEFAULT 'public' CHECK (access IN ('public', 'members')),
    min_age                 integer CHECK (min_age BETWEEN 0 AND 150),
    max_age                 integer CHECK (max_age BETWEEN 0 AND 150),
    price_note              text NOT NULL DEFAULT '',
    questions               jsonb NOT NULL DEFAULT '[]',
    seats_confirmed         integer NOT NULL DEFAULT 0 CHECK (seats_confirmed >= 0),
    sequence                integer NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_capacity_not_exceeded CHECK (capacity IS NULL OR seats_confirmed <= capacity),
    CONSTRAINT events_ends_after_start CHECK (ends_at >= starts_at),
    CONSTRAINT events_age_range CHECK (min_age IS NULL OR max_age IS NULL OR min_age <= max_age)
);
CREATE INDEX events_org_starts ON events (org_id, starts_at);
CREATE INDEX events_status_starts ON events (status, starts_at);

CREATE SEQUENCE registration_waitlist_order;

CREATE TABLE registrations (
    id              bigserial PRIMARY KEY,
    event_id        bigint NOT NULL REFERENCES events(id),
    name            text NOT NULL,
    email           text NOT NULL,
    lang            text NOT NULL,
    party_size      integer NOT NULL CHECK (party_size >= 1),
    answers         jsonb NOT NULL DEFAULT '{}',
    member_number   text NOT NULL DEFAULT '',
    birth_date      date,
    status          text NOT NULL CHECK (status IN ('pending', 'confirmed', 'waitlisted', 'cancelled', 'expired')),
    -- Sign-up order on the waitlist; the shown position is the rank among
    -- the event's waitlisted registrations, so it only ever moves up.
    waitlist_order  bigint NOT NULL DEFAULT nextval('registration_waitlist_order'),
    manage_token    text NOT NULL UNIQUE,
    consent_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    confirmed_at    timestamptz,
    cancelled_at    timestamptz
);
-- One live registration per email and event: a second sign-up gets the first back.
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON registrations (event_id, lower(email))
    WHERE status IN ('pending', 'confirmed', 'waitlisted');
CREATE INDEX registrations_waitlist
    ON registrations (event_id, waitlist_order)
    WHERE status = 'waitlisted';
CREATE INDEX registrations_event_created ON registrations (event_id, created_at);

CREATE TABLE tickets (
    id               bigserial PRIMARY KEY,
    registration_id  bigint NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    event_id         bigint NOT NULL REFERENCES events(id),
    seat             integer NOT NULL CHECK (seat >= 1),
    code             text NOT NULL UNIQUE CHECK (length(code) >= 26),
    checked_in_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (registration_id, seat)
);

-- +goose Down
DROP TABLE tickets;
DROP TABLE registrations;
DROP SEQUENCE registration_waitlist_order;
DROP TABLE events;
DROP TABLE venues;
DROP TABLE api_tokens;
DROP TABLE staff_roles;
DROP TABLE staff_users;
DROP TABLE organisations;
