-- Sending upward (gửi lên cấp trên): the upstream systems a province sends
-- its approved reports to, and the deliveries waiting, sent or refused.
-- A delivery is written in the transaction of the final approval that
-- causes it (report_writer.rs), so it exists exactly when the approval does.

-- An upstream system: its definition as checked (core::upstream::Link,
-- JSON); the secret is never stored, only the name of the environment
-- variable that holds it.
CREATE TABLE upstream_links (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    definition  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Which regimes' approved reports go to which upstream, read by the
-- report writer's one statement per approval.
CREATE TABLE upstream_link_regimes (
    link_id    INTEGER NOT NULL REFERENCES upstream_links (id),
    regime_id  INTEGER NOT NULL REFERENCES regimes (id),
    PRIMARY KEY (regime_id, link_id)
);

CREATE TABLE upstream_deliveries (
    id              INTEGER PRIMARY KEY,
    link_id         INTEGER NOT NULL REFERENCES upstream_links (id),
    report_id       INTEGER NOT NULL REFERENCES reports (id),
    -- The report's revision whose approval this delivery sends.
    revision        INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'refused', 'superseded')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at      TEXT,
    sent_at         TEXT,
    -- The upstream's HTTP status and import summary (JSON), as answered.
    http_status     INTEGER,
    summary         TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX upstream_deliveries_due ON upstream_deliveries (state, next_attempt_at);
CREATE INDEX upstream_deliveries_report ON upstream_deliveries (report_id, link_id);

-- Completeness registrations received (DHIS2 completeDataSetRegistrations):
-- a lower instance's word that its report of a data set, unit and period
-- is complete, or no longer (completed false after a reopening).
CREATE TABLE dataset_registrations (
    data_set     TEXT NOT NULL,
    period       TEXT NOT NULL,
    unit_id      INTEGER NOT NULL REFERENCES units (id),
    completed    BOOLEAN NOT NULL,
    completed_on TEXT,
    stored_by    TEXT NOT NULL,
    stored_at    TEXT NOT NULL,
    PRIMARY KEY (data_set, period, unit_id)
);
