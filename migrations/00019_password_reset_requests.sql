-- +goose Up
-- Password-reset requests wait here (docs/organisers.md): the form writes
-- one row for every well-formed address, known or not, and answers; the
-- auth service's worker then makes the link and the mail for known
-- accounts and drops the rest. So the answer costs the same whether an
-- account exists (security review finding 10), and a request survives a
-- crash between the answer and the work.
CREATE TABLE password_reset_requests (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL,
    lang        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- A request whose work failed waits a while before it is tried again,
    -- so that it cannot hold up the ones behind it.
    not_before  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_requests_due ON password_reset_requests (not_before, id);

-- +goose Down
DROP TABLE password_reset_requests;
