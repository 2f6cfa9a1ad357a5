-- Values are read by unit and period (a report, the units of an area); the
-- period alone is not selective once many units report.
CREATE INDEX data_values_unit_period ON data_values (unit_id, period);
DROP INDEX data_values_unit;
