-- The temporal registry of administrative units (PostgreSQL).

CREATE TABLE reorganizations (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    effective_date DATE NOT NULL,
    legal_basis    TEXT,
    -- SHA-256 of the plan as applied; the same plan applied again is a no-op.
    checksum       TEXT NOT NULL,
    plan           TEXT NOT NULL,
    applied_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE units (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- Lower case, without diacritics: what search compares against.
    search_name  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    level        INTEGER NOT NULL CHECK (level BETWEEN 1 AND 9),
    parent_code  TEXT,
    -- NULL valid_from: in force since before the registry's records begin.
    valid_from   DATE,
    -- Exclusive; NULL while still in force.
    valid_to     DATE,
    created_by   BIGINT REFERENCES reorganizations (id),
    ended_by     BIGINT REFERENCES reorganizations (id),
    archive_note TEXT,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to)
);
CREATE UNIQUE INDEX units_identity ON units (code, COALESCE(valid_from, DATE '0001-01-01'));
CREATE INDEX units_parent ON units (parent_code);

CREATE TABLE lineage (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    predecessor_id    BIGINT NOT NULL REFERENCES units (id),
    successor_id      BIGINT NOT NULL REFERENCES units (id),
    reorganization_id BIGINT NOT NULL REFERENCES reorganizations (id),
    partial           BOOLEAN NOT NULL,
    weight            DOUBLE PRECISION CHECK (weight IS NULL OR (weight > 0 AND weight <= 1.000001)),
    UNIQUE (predecessor_id, successor_id)
);
CREATE INDEX lineage_successor ON lineage (successor_id);

-- Bumped by every change to the registry, so readers can cache it.
CREATE TABLE registry_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO registry_revision (id, revision) VALUES (1, 0);
