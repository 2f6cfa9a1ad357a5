-- Readiness writes this row when the last write did not commit, to learn
-- whether the database can write again (a full disk, a read-only file).
INSERT INTO cache_revisions (name, revision) VALUES ('probe', 0);

-- What an approved report shows (figures, findings, names, signer), fixed
-- when it is approved (core::report::Frozen as JSON); cleared when it is
-- reopened.
ALTER TABLE reports ADD COLUMN frozen TEXT;

-- Value types as DHIS2 distinguishes them: a count cannot be negative.
ALTER TABLE indicators DROP CONSTRAINT indicators_value_type_check;
ALTER TABLE indicators ADD CONSTRAINT indicators_value_type_check CHECK (value_type IN (
    'integer', 'integer_zero_or_positive', 'integer_positive', 'integer_negative', 'decimal', 'percent',
    'unit_interval', 'text', 'boolean'));

-- The indicators of each form version, kept by a trigger from its
-- definition: which values belong to a report (of that form, unit and
-- period), so that one rule decides what counts (approved reports and
-- direct imports; drafts never).
CREATE TABLE form_indicators (
    form_id      BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    indicator_id BIGINT NOT NULL REFERENCES indicators (id),
    PRIMARY KEY (form_id, indicator_id)
);
INSERT INTO form_indicators (form_id, indicator_id)
SELECT DISTINCT f.id, i.id FROM forms f
CROSS JOIN LATERAL jsonb_array_elements(f.definition::jsonb -> 'rows') AS r
JOIN indicators i ON i.code = r ->> 'indicator';
CREATE FUNCTION form_indicators_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM form_indicators WHERE form_id = NEW.id;
    INSERT INTO form_indicators (form_id, indicator_id)
    SELECT DISTINCT NEW.id, i.id FROM jsonb_array_elements(NEW.definition::jsonb -> 'rows') AS r
    JOIN indicators i ON i.code = r ->> 'indicator';
    RETURN NEW;
END $$;
CREATE TRIGGER forms_indicators AFTER INSERT OR UPDATE OF definition ON forms
    FOR EACH ROW EXECUTE FUNCTION form_indicators_refresh();
-- The reports of a unit and period, for that rule.
CREATE INDEX reports_unit_period ON reports (unit_id, period);
