-- Indicators (chỉ tiêu) and the values reported for them (SQLite).

CREATE TABLE indicators (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    unit        TEXT NOT NULL,
    value_type  TEXT NOT NULL CHECK (value_type IN ('integer', 'decimal', 'percent', 'text', 'boolean')),
    aggregation TEXT NOT NULL CHECK (aggregation IN ('sum', 'average', 'min', 'max', 'last', 'none', 'formula')),
    formula     TEXT,
    group_name  TEXT,
    CHECK ((aggregation = 'formula') = (formula IS NOT NULL))
);

-- One value per indicator, unit version and period. The unit version is
-- the one in force on the last day of the period.
CREATE TABLE data_values (
    id           INTEGER PRIMARY KEY,
    indicator_id INTEGER NOT NULL REFERENCES indicators (id),
    unit_id      INTEGER NOT NULL REFERENCES units (id),
    -- DHIS2 period string: 202407, 2024Q3, 2024S1, 2024N9, 2024, 20240715.
    period       TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    -- The value as text (the canonical form), and as a number when it is one.
    value        TEXT NOT NULL,
    value_num    REAL,
    comment      TEXT,
    stored_at    TEXT NOT NULL,
    UNIQUE (indicator_id, unit_id, period)
);
CREATE INDEX data_values_period ON data_values (period, indicator_id);
CREATE INDEX data_values_unit ON data_values (unit_id);
