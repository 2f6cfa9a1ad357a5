-- What others are told of (a report returned, approved or reopened; a
-- request sent), written in the transaction of what happened and turned
-- into notices by the dispatcher, once: dispatching marks it first.
CREATE TABLE events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('report', 'request')),
    payload       TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    dispatched_at TIMESTAMPTZ
);
CREATE INDEX events_waiting ON events (id) WHERE dispatched_at IS NULL;

-- Notices, one per account and event key (`core::notify::Notice::key`):
-- a job run twice tells nobody twice. `in_app` false: sent by mail only
-- (the row still keeps it from being sent again).
CREATE TABLE notifications (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    topic      TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT NOT NULL,
    event_key  TEXT NOT NULL,
    in_app     BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    read_at    TIMESTAMPTZ,
    UNIQUE (account_id, event_key)
);
CREATE INDEX notifications_inbox ON notifications (account_id, id);

-- Where an account wants notices of a topic, when not the default (inbox
-- and mail).
CREATE TABLE notification_preferences (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    topic      TEXT NOT NULL,
    in_app     BOOLEAN NOT NULL,
    by_mail    BOOLEAN NOT NULL,
    PRIMARY KEY (account_id, topic)
);

-- Scheduled jobs and their runs. A run is claimed by moving the job's
-- next run with a compare-and-set on `claims`: of several processes, one
-- runs it. A running run holds a lease its process extends; a run whose
-- lease lapsed (its process died) is marked interrupted and run again.
CREATE TABLE jobs (
    name        TEXT PRIMARY KEY,
    schedule    TEXT NOT NULL,
    next_run_at TIMESTAMPTZ NOT NULL,
    claims      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE job_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         TEXT NOT NULL REFERENCES jobs (name),
    due_at      TIMESTAMPTZ NOT NULL,
    runner      TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome     TEXT NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'interrupted')),
    detail      TEXT
);
CREATE INDEX job_runs_job ON job_runs (job, id);
