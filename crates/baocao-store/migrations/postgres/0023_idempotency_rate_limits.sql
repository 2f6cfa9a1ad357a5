-- Write requests sent with an `Idempotency-Key`, by account and key: a
-- retry with the same key is answered from here instead of acting again.
-- `pending`: being handled by the process holding `token` until
-- `lease_until`; `applied`: the write committed (marked in the write's own
-- transaction where the route can), its answer not yet kept; `done`: the
-- answer kept. Kept a day, then the key may be used again.
CREATE TABLE idempotency_keys (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    route        TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'done', 'unknown')),
    token        TEXT NOT NULL,
    lease_until  TIMESTAMPTZ NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         BYTEA,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Attempts (signing in, reset links, second-factor codes) per client
-- address, shared by every process on the database: the theoretical
-- arrival time of the generic cell rate algorithm, in milliseconds since
-- 1970 (compared for equality when it is moved).
CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    client TEXT NOT NULL,
    tat    BIGINT NOT NULL,
    PRIMARY KEY (bucket, client)
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);
