-- The temporal registry of administrative units (SQLite).
-- Dates are ISO text (YYYY-MM-DD), which sorts and compares as days.

CREATE TABLE reorganizations (
    id             INTEGER PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    legal_basis    TEXT,
    -- SHA-256 of the plan as applied; the same plan applied again is a no-op.
    checksum       TEXT NOT NULL,
    plan           TEXT NOT NULL,
    applied_at     TEXT NOT NULL
);

CREATE TABLE units (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- Lower case, without diacritics: what search compares against.
    search_name  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    level        INTEGER NOT NULL CHECK (level BETWEEN 1 AND 9),
    parent_code  TEXT,
    -- NULL valid_from: in force since before the registry's records begin.
    valid_from   TEXT,
    -- Exclusive; NULL while still in force.
    valid_to     TEXT,
    created_by   INTEGER REFERENCES reorganizations (id),
    ended_by     INTEGER REFERENCES reorganizations (id),
    archive_note TEXT,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to)
);
CREATE UNIQUE INDEX units_identity ON units (code, COALESCE(valid_from, '0001-01-01'));
CREATE INDEX units_parent ON units (parent_code);

CREATE TABLE lineage (
    id                INTEGER PRIMARY KEY,
    predecessor_id    INTEGER NOT NULL REFERENCES units (id),
    successor_id      INTEGER NOT NULL REFERENCES units (id),
    reorganization_id INTEGER NOT NULL REFERENCES reorganizations (id),
    partial           INTEGER NOT NULL CHECK (partial IN (0, 1)),
    weight            REAL CHECK (weight IS NULL OR (weight > 0 AND weight <= 1.000001)),
    UNIQUE (predecessor_id, successor_id)
);
CREATE INDEX lineage_successor ON lineage (successor_id);

-- Bumped by every change to the registry, so readers can cache it.
CREATE TABLE registry_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO registry_revision (id, revision) VALUES (1, 0);
