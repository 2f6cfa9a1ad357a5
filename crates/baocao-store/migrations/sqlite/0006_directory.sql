-- Agencies, the people in their rosters, and where each person works over time (SQLite).

CREATE TABLE agencies (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_code TEXT,
    unit_code   TEXT,
    valid_from  TEXT,
    valid_to    TEXT,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to)
);
CREATE UNIQUE INDEX agencies_identity ON agencies (code, COALESCE(valid_from, '0001-01-01'));

-- One row per person: the same folded name and date of birth in two
-- rosters is taken to be the same person (a transfer, not a second official).
CREATE TABLE people (
    id          INTEGER PRIMARY KEY,
    full_name   TEXT NOT NULL,
    folded_name TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    gender      TEXT,
    email       TEXT,
    phone       TEXT,
    UNIQUE (folded_name, birth_date)
);

-- Where a person works, with position, post and the roles wanted in each
-- shared system, over a validity interval: the roster of any day.
CREATE TABLE postings (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    agency_code TEXT NOT NULL,
    position    TEXT NOT NULL,
    post        TEXT NOT NULL,
    roles       TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    CHECK (valid_to IS NULL OR valid_from < valid_to)
);
CREATE INDEX postings_agency ON postings (agency_code, valid_from);
CREATE INDEX postings_person ON postings (person_id, valid_from);
