-- +goose Up
-- An embedded sign-up form's token serves one sign-up (docs/embed.md): the
-- token's nonce is recorded when it is sent, on whichever instance, and a
-- nonce already here is refused. A row is needed only until the token
-- would have expired anyway; later claims delete expired rows.
CREATE TABLE embed_token_uses (
    nonce      text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX embed_token_uses_expires_at ON embed_token_uses (expires_at);

-- +goose Down
DROP TABLE embed_token_uses;
