-- +goose Up
-- Figures per session (issue 21, docs/organisers.md "Figures"): the
-- persons confirmed in a session count those released as no-shows, as the
-- event's figures do (released_at, 00023). A release gives up the
-- registration's choices like any cancellation (status 'cancelled'), so
-- the choice keeps here whether it held a place when its registration was
-- released; a choice given up otherwise (the participant left the session,
-- the registration was cancelled) does not count. Choices released before
-- this column are not marked: which of them held a place was not kept.
--
-- Retention erases nothing of registration_sessions or session_checkins:
-- they name a registration and a ticket by id only, so the session figures
-- come out the same before and after it.
ALTER TABLE registration_sessions
    ADD COLUMN released boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE registration_sessions DROP COLUMN released;
