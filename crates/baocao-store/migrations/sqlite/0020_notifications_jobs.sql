-- What others are told of (a report returned, approved or reopened; a
-- request sent), written in the transaction of what happened and turned
-- into notices by the dispatcher, once: dispatching marks it first.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('report', 'request')),
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    dispatched_at TEXT
);
CREATE INDEX events_waiting ON events (id) WHERE dispatched_at IS NULL;

-- Notices, one per account and event key (`core::notify::Notice::key`):
-- a job run twice tells nobody twice. `in_app` false: sent by mail only
-- (the row still keeps it from being sent again).
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    topic      TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT NOT NULL,
    event_key  TEXT NOT NULL,
    in_app     BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    read_at    TEXT,
    UNIQUE (account_id, event_key)
);
CREATE INDEX notifications_inbox ON notifications (account_id, id);

-- Where an account wants notices of a topic, when not the default (inbox
-- and mail).
CREATE TABLE notification_preferences (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
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
    next_run_at TEXT NOT NULL,
    claims      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT NOT NULL REFERENCES jobs (name),
    due_at      TEXT NOT NULL,
    runner      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'interrupted')),
    detail      TEXT
);
CREATE INDEX job_runs_job ON job_runs (job, id);
