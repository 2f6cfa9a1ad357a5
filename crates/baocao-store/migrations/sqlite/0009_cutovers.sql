-- Cutovers: a reorganization taken into the reporting system at a set
-- moment (forms that start, regimes reassigned, accounts), applied in one
-- transaction. `undo` holds what a rollback needs to restore the state
-- before; `summary` what was done.
CREATE TABLE cutovers (
    key            TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    checksum       TEXT NOT NULL,
    reorganization TEXT NOT NULL,
    applied_reorganization INTEGER NOT NULL,
    summary        TEXT NOT NULL,
    undo           TEXT NOT NULL,
    applied_at     TEXT NOT NULL,
    rolled_back_at TEXT
);

-- The units a cutover dissolved: their reports are read-only from then on,
-- and each is packaged for the archive.
CREATE TABLE cutover_units (
    cutover_key TEXT NOT NULL REFERENCES cutovers (key),
    unit_code   TEXT NOT NULL,
    unit_name   TEXT NOT NULL,
    successors  TEXT NOT NULL,
    package     TEXT,
    PRIMARY KEY (cutover_key, unit_code)
);
CREATE INDEX cutover_units_code ON cutover_units (unit_code);
