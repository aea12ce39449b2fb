-- +goose Up
-- Certificates of attendance (docs/organisers.md, "Certificates"). A row is
-- written the first time a certificate is shown, for a registration with a
-- checked-in ticket, and outlives the retention erasure: /verify/{code}
-- still answers "genuine, issued for this event" years later.
--
-- The verification code is derived from nonce with a key made from
-- SECRET_KEY (internal/secret): the table keeps only the code's SHA-256, so
-- a copy of the database alone yields no working verification link, while
-- the certificate can be printed again with the same code.
--
-- initials is the only personal datum kept for the verification page; the
-- retention erasure blanks it with the registration's name.
CREATE TABLE certificates (
    id               bigserial PRIMARY KEY,
    registration_id  bigint UNIQUE REFERENCES registrations(id) ON DELETE SET NULL,
    event_id         bigint NOT NULL REFERENCES events(id),
    nonce            bytea NOT NULL,
    code_hash        bytea NOT NULL UNIQUE,
    initials         text NOT NULL DEFAULT '',
    issued_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX certificates_event ON certificates (event_id);

-- +goose Down
DROP TABLE certificates;
