-- +goose Up
-- A copy of the database alone yields no working link (DESIGN rule 9,
-- docs/operations.md "Security"). Manage tokens and ticket codes were kept
-- in plain text; from now on a registration keeps a random nonce, its
-- manage token and ticket codes are derived from it with SECRET_KEY
-- (internal/secret), and the tables keep only their SHA-256 for lookups.
--
-- Links mailed before this migration keep working: their SHA-256 moves to
-- legacy_manage_hash / legacy_code_hash. The application gives every such
-- registration a nonce (and so a new manage token and new ticket codes,
-- shown on its pages and in later mails) when it starts; both old and new
-- work from then on.
ALTER TABLE registrations
    ADD COLUMN manage_nonce bytea,
    ADD COLUMN manage_hash bytea,
    ADD COLUMN legacy_manage_hash bytea;
UPDATE registrations SET legacy_manage_hash = sha256(convert_to(manage_token, 'UTF8'));
ALTER TABLE registrations DROP COLUMN manage_token;
CREATE UNIQUE INDEX registrations_manage_hash ON registrations (manage_hash);
CREATE UNIQUE INDEX registrations_legacy_manage_hash ON registrations (legacy_manage_hash)
    WHERE legacy_manage_hash IS NOT NULL;
-- What the application still has to give a nonce (see above).
CREATE INDEX registrations_without_nonce ON registrations (id) WHERE manage_nonce IS NULL;

ALTER TABLE tickets
    ADD COLUMN code_hash bytea,
    ADD COLUMN legacy_code_hash bytea;
UPDATE tickets SET legacy_code_hash = sha256(convert_to(code, 'UTF8'));
ALTER TABLE tickets DROP COLUMN code;
CREATE UNIQUE INDEX tickets_code_hash ON tickets (code_hash);
CREATE UNIQUE INDEX tickets_legacy_code_hash ON tickets (legacy_code_hash)
    WHERE legacy_code_hash IS NOT NULL;

-- The door's log kept the scanned text, which is a ticket's code or link
-- for every known ticket. It keeps it now only for scans that matched no
-- ticket (typos, foreign codes); retention blanks those too.
UPDATE checkin_scans SET code = '' WHERE ticket_id IS NOT NULL AND code <> '';
UPDATE checkin_scans s SET code = ''
WHERE s.code <> '' AND EXISTS (
    SELECT 1 FROM tickets t
    WHERE t.legacy_code_hash = sha256(convert_to(
        split_part(split_part(split_part(regexp_replace(btrim(s.code), '^.*/t/', ''), '?', 1), '#', 1), '/', 1), 'UTF8')));

-- The outbox: a confirm_email row kept the confirmation link's secret in
-- its payload, a staff email its password or invitation link in its
-- bodies, and rows from before 00011 the manage link and ticket codes in
-- theirs. New rows keep them sealed with a key derived from SECRET_KEY
-- (internal/mail); of the old rows, those already sent or given up need
-- them no more. Rows still queued keep them until sent.
UPDATE mail_outbox SET payload = payload - 'confirm'
WHERE status IN ('sent', 'failed') AND payload ? 'confirm';
UPDATE mail_outbox SET body_text = '', body_html = ''
WHERE status IN ('sent', 'failed') AND (body_text <> '' OR body_html <> '')
  AND (registration_id IS NOT NULL OR kind IN ('password_reset', 'staff_invite'));

-- +goose Down
-- The plain secrets are gone for good: going down issues new random ones,
-- and every link mailed before no longer works.
ALTER TABLE tickets ADD COLUMN code text;
UPDATE tickets SET code = upper(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
ALTER TABLE tickets ALTER COLUMN code SET NOT NULL,
    ADD CONSTRAINT tickets_code_key UNIQUE (code),
    ADD CONSTRAINT tickets_code_check CHECK (length(code) >= 26),
    DROP COLUMN code_hash, DROP COLUMN legacy_code_hash;
ALTER TABLE registrations ADD COLUMN manage_token text;
UPDATE registrations SET manage_token = upper(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
ALTER TABLE registrations ALTER COLUMN manage_token SET NOT NULL,
    ADD CONSTRAINT registrations_manage_token_key UNIQUE (manage_token),
    DROP COLUMN manage_nonce, DROP COLUMN manage_hash, DROP COLUMN legacy_manage_hash;
