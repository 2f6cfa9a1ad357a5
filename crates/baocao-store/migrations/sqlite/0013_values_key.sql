-- Values are written and read by unit and period (a report, the units of an
-- area). One index in that order serves both the uniqueness of a value and
-- those reads, so each value written updates one index fewer. A table-level
-- UNIQUE cannot be changed in place in SQLite: the table is rebuilt.
CREATE TABLE data_values_keyed (
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
    UNIQUE (unit_id, period, indicator_id)
);
INSERT INTO data_values_keyed (id, indicator_id, unit_id, period, period_end, value, value_num, comment, stored_at)
SELECT id, indicator_id, unit_id, period, period_end, value, value_num, comment, stored_at FROM data_values;
DROP TABLE data_values;
ALTER TABLE data_values_keyed RENAME TO data_values;
CREATE INDEX data_values_period ON data_values (period, indicator_id);
