-- Where an account's mail goes (an official address; the username when the
-- account plan made it from one).
ALTER TABLE accounts ADD COLUMN email TEXT;

-- Mail waiting to be sent, written in the transaction of what caused it and
-- sent by a worker. `params` holds what the message says (for an activation,
-- its one-time link): erased once the message is sent. A message being sent
-- when its process died is `uncertain`, never sent again on its own: an
-- administrator decides (SMTP cannot tell whether it arrived).
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    template        TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    account_id      BIGINT REFERENCES accounts (id),
    params          TEXT,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_at      TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- One-time links to set a password: activation of a new account, reset of
-- a forgotten one. Only the token's SHA-256 is kept.
CREATE TABLE account_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    purpose    TEXT NOT NULL CHECK (purpose IN ('activation', 'reset')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX account_tokens_account ON account_tokens (account_id, purpose);
