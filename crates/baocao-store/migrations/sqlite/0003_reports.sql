-- Forms, regimes, reports and their revisions (SQLite).

-- Each version of a form, its definition as JSON (written from reviewed TOML).
CREATE TABLE forms (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT,
    definition TEXT NOT NULL,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to)
);
CREATE UNIQUE INDEX forms_identity ON forms (code, COALESCE(valid_from, '0001-01-01'));

CREATE TABLE regimes (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL
);

-- One report per regime, unit version and period.
CREATE TABLE reports (
    id              INTEGER PRIMARY KEY,
    regime_id       INTEGER NOT NULL REFERENCES regimes (id),
    form_id         INTEGER NOT NULL REFERENCES forms (id),
    unit_id         INTEGER NOT NULL REFERENCES units (id),
    period          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'returned')),
    submitted_at    TEXT,
    approved_at     TEXT,
    returned_reason TEXT,
    signer          TEXT,
    signer_position TEXT,
    signed_at       TEXT,
    updated_at      TEXT NOT NULL,
    UNIQUE (regime_id, unit_id, period)
);
CREATE INDEX reports_period ON reports (period, status);

-- Every change of a report, with who, when, and the values as they stood.
CREATE TABLE report_revisions (
    id        INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    seq       INTEGER NOT NULL,
    action    TEXT NOT NULL,
    status    TEXT NOT NULL,
    actor     TEXT NOT NULL,
    at        TEXT NOT NULL,
    note      TEXT,
    snapshot  TEXT NOT NULL,
    UNIQUE (report_id, seq)
);

-- Year plans (kế hoạch năm), entered with the reports.
CREATE TABLE plan_values (
    id           INTEGER PRIMARY KEY,
    indicator_id INTEGER NOT NULL REFERENCES indicators (id),
    unit_id      INTEGER NOT NULL REFERENCES units (id),
    year         INTEGER NOT NULL,
    value        REAL NOT NULL,
    UNIQUE (indicator_id, unit_id, year)
);
