-- Two-factor sign-in with time-based one-time codes (RFC 6238). The secret
-- offered at enrolment waits in `totp_pending` until a code from it is
-- typed; `totp_last_step` keeps a code from working twice.
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_pending TEXT;
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT;

-- Single-use codes for a lost phone, stored as their SHA-256.
CREATE TABLE recovery_codes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id);

-- Sign-ins whose password was right, waiting for their code (minutes).
CREATE TABLE pending_sign_ins (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    expires_at TIMESTAMPTZ NOT NULL
);
