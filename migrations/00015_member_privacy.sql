-- +goose Up
-- Issue 16, findings 2 and 3 (docs/access.md).
--
-- A partnership counts only once an owner of the partner organisation (or
-- a network admin) has accepted it. Partnerships made before this
-- migration were never asked, so they start as requested: until the
-- partner accepts, its member list is not consulted.
ALTER TABLE event_partners
    ADD COLUMN status text NOT NULL DEFAULT 'requested'
        CHECK (status IN ('requested', 'accepted', 'declined')),
    ADD COLUMN decided_at timestamptz,
    ADD COLUMN decided_by bigint REFERENCES staff_users(id) ON DELETE SET NULL;

-- The address of a pending registration may be a member's listed address,
-- put there by whoever typed the member's number: organisers see it only
-- once the link in the mail to it was followed. Rows already pending or
-- lapsed never had their address confirmed.
ALTER TABLE registrations ADD COLUMN address_unconfirmed boolean NOT NULL DEFAULT false;
UPDATE registrations SET address_unconfirmed = true WHERE status IN ('pending', 'expired');

-- "Your registration again": a sign-up with an address that has a live
-- registration mails that address, at most once an hour per registration.
ALTER TABLE registrations ADD COLUMN reminded_again_at timestamptz;

-- +goose Down
ALTER TABLE registrations DROP COLUMN reminded_again_at;
ALTER TABLE registrations DROP COLUMN address_unconfirmed;
ALTER TABLE event_partners DROP COLUMN decided_by, DROP COLUMN decided_at, DROP COLUMN status;
