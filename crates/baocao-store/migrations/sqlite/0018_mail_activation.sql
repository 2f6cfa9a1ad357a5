-- Where an account's mail goes (an official address; the username when the
-- account plan made it from one).
ALTER TABLE accounts ADD COLUMN email TEXT;

-- Mail waiting to be sent, written in the transaction of what caused it and
-- sent by a worker. `params` holds what the message says (for an activation,
-- its one-time link): erased once the message is sent. A message being sent
-- when its process died is `uncertain`, never sent again on its own: an
-- administrator decides (SMTP cannot tell whether it arrived).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    template        TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    account_id      INTEGER REFERENCES accounts (id),
    params          TEXT,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at      TEXT,
    sent_at         TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- One-time links to set a password: activation of a new account, reset of
-- a forgotten one. Only the token's SHA-256 is kept.
CREATE TABLE account_tokens (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    purpose    TEXT NOT NULL CHECK (purpose IN ('activation', 'reset')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX account_tokens_account ON account_tokens (account_id, purpose);
