-- +goose Up
-- A participant may change a registration through its manage link (PATCH
-- /api/v1/registrations/{token}, the form on /r/{token}): party size, name,
-- language, answers. changed_at is when that last happened, so that the
-- organisers' attendee list and exports can mark changed registrations;
-- updated_at cannot tell, because every status change (promotion, expiry,
-- retention) moves it too. NULL: never changed since sign-up.
ALTER TABLE registrations ADD COLUMN changed_at timestamptz;

-- +goose Down
ALTER TABLE registrations DROP COLUMN changed_at;
