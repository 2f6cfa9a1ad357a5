-- Single sign-on (OpenID Connect): the provider's subject an account is
-- linked to (by the provider's e-mail the first time), and whether the
-- account may still sign in with its own password.
ALTER TABLE accounts ADD COLUMN sso_subject TEXT;
ALTER TABLE accounts ADD COLUMN password_sign_in BOOLEAN NOT NULL DEFAULT TRUE;
CREATE UNIQUE INDEX accounts_sso_subject ON accounts (sso_subject) WHERE sso_subject IS NOT NULL;

-- Sign-ins sent to the provider, waiting for its answer (minutes): the
-- PKCE verifier and the nonce, found by the hash of the `state` that the
-- browser's cookie must also carry.
CREATE TABLE sso_pending (
    state_hash TEXT PRIMARY KEY,
    verifier   TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    next       TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
