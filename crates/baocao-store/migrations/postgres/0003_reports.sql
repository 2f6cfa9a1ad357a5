-- Forms, regimes, reports and their revisions (PostgreSQL).

-- Each version of a form, its definition as JSON (written from reviewed TOML).
CREATE TABLE forms (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    valid_from DATE,
    valid_to   DATE,
    definition TEXT NOT NULL,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to)
);
CREATE UNIQUE INDEX forms_identity ON forms (code, COALESCE(valid_from, DATE '0001-01-01'));

CREATE TABLE regimes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL
);

-- One report per regime, unit version and period.
CREATE TABLE reports (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    regime_id       BIGINT NOT NULL REFERENCES regimes (id),
    form_id         BIGINT NOT NULL REFERENCES forms (id),
    unit_id         BIGINT NOT NULL REFERENCES units (id),
    period          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'returned')),
    submitted_at    TIMESTAMPTZ,
    approved_at     TIMESTAMPTZ,
    returned_reason TEXT,
    signer          TEXT,
    signer_position TEXT,
    signed_at       TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (regime_id, unit_id, period)
);
CREATE INDEX reports_period ON reports (period, status);

-- Every change of a report, with who, when, and the values as they stood.
CREATE TABLE report_revisions (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id BIGINT NOT NULL REFERENCES reports (id),
    seq       BIGINT NOT NULL,
    action    TEXT NOT NULL,
    status    TEXT NOT NULL,
    actor     TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    note      TEXT,
    snapshot  TEXT NOT NULL,
    UNIQUE (report_id, seq)
);

-- Year plans (kế hoạch năm), entered with the reports.
CREATE TABLE plan_values (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    indicator_id BIGINT NOT NULL REFERENCES indicators (id),
    unit_id      BIGINT NOT NULL REFERENCES units (id),
    year         INTEGER NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    UNIQUE (indicator_id, unit_id, year)
);
