-- Values partitioned by year (issue 20): a national instance holds years of
-- every commune's values, and what is read is almost always one period or a
-- few. Each year's values live in their own table, with their own indexes:
-- a query naming its period (every composition does, `d.period = $1`) reads
-- one year's indexes however many years are stored, and an old year can be
-- detached and archived whole.
--
-- The key is the period itself: every DHIS2 period string starts with its
-- year (202407, 2024Q3, 2024S1, 2024N9, 2024, 20240715), so the year's
-- range of strings holds all of them, whatever the collation orders after
-- the digits. A period outside the years below goes to the default
-- partition, still stored and read, only not pruned.
--
-- The natural key becomes the primary key: the surrogate `id` was read by
-- nothing, and a unique key of a partitioned table must hold the partition
-- key. Each value written updates two indexes instead of three.

ALTER TABLE data_values RENAME TO data_values_unpartitioned;
ALTER TABLE data_values_unpartitioned RENAME CONSTRAINT data_values_key TO data_values_unpartitioned_key;
ALTER INDEX data_values_period RENAME TO data_values_unpartitioned_period;

CREATE TABLE data_values (
    indicator_id  BIGINT NOT NULL CONSTRAINT data_values_indicator_id_fkey REFERENCES indicators (id),
    unit_id       BIGINT NOT NULL CONSTRAINT data_values_unit_id_fkey REFERENCES units (id),
    period        TEXT NOT NULL,
    period_end    DATE NOT NULL,
    value         TEXT NOT NULL,
    value_num     DOUBLE PRECISION,
    comment       TEXT,
    stored_at     TIMESTAMPTZ NOT NULL,
    source_id     BIGINT CONSTRAINT data_values_source_id_fkey REFERENCES value_sources (id),
    source_record TEXT,
    CONSTRAINT data_values_key PRIMARY KEY (unit_id, period, indicator_id)
) PARTITION BY RANGE (period);

DO $$
BEGIN
    FOR y IN 2015..2040 LOOP
        EXECUTE format('CREATE TABLE data_values_%s PARTITION OF data_values FOR VALUES FROM (%L) TO (%L)',
                       y, y::text, (y + 1)::text);
    END LOOP;
END
$$;
CREATE TABLE data_values_other_years PARTITION OF data_values DEFAULT;

CREATE INDEX data_values_period ON data_values (period, indicator_id);

INSERT INTO data_values (indicator_id, unit_id, period, period_end, value, value_num, comment, stored_at,
                         source_id, source_record)
SELECT indicator_id, unit_id, period, period_end, value, value_num, comment, stored_at, source_id, source_record
FROM data_values_unpartitioned;

DROP TABLE data_values_unpartitioned;
