-- Values are written and read by unit and period (a report, the units of an
-- area). One index in that order serves both the uniqueness of a value and
-- those reads, so each value written updates one index fewer.
ALTER TABLE data_values DROP CONSTRAINT data_values_indicator_id_unit_id_period_key;
ALTER TABLE data_values ADD CONSTRAINT data_values_key UNIQUE (unit_id, period, indicator_id);
DROP INDEX data_values_unit_period;
