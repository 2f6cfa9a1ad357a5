-- Readiness writes this row when the last write did not commit, to learn
-- whether the database can write again (a full disk, a read-only file).
INSERT INTO cache_revisions (name, revision) VALUES ('probe', 0);

-- What an approved report shows (figures, findings, names, signer), fixed
-- when it is approved (core::report::Frozen as JSON); cleared when it is
-- reopened.
ALTER TABLE reports ADD COLUMN frozen TEXT;

-- Value types as DHIS2 distinguishes them: a count cannot be negative.
-- SQLite cannot change a CHECK in place; a column whose CHECK is its own can
-- be dropped, so the column is replaced.
ALTER TABLE indicators ADD COLUMN value_kind TEXT NOT NULL DEFAULT 'integer' CHECK (value_kind IN (
    'integer', 'integer_zero_or_positive', 'integer_positive', 'integer_negative', 'decimal', 'percent',
    'unit_interval', 'text', 'boolean'));
UPDATE indicators SET value_kind = value_type;
ALTER TABLE indicators DROP COLUMN value_type;
ALTER TABLE indicators RENAME COLUMN value_kind TO value_type;

-- The indicators of each form version, kept by triggers from its
-- definition: which values belong to a report (of that form, unit and
-- period), so that one rule decides what counts (approved reports and
-- direct imports; drafts never).
CREATE TABLE form_indicators (
    form_id      INTEGER NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    indicator_id INTEGER NOT NULL REFERENCES indicators (id),
    PRIMARY KEY (form_id, indicator_id)
);
INSERT OR IGNORE INTO form_indicators (form_id, indicator_id)
SELECT f.id, i.id FROM forms f, json_each(f.definition, '$.rows') AS r
JOIN indicators i ON i.code = json_extract(r.value, '$.indicator');
CREATE TRIGGER forms_indicators_insert AFTER INSERT ON forms
BEGIN
    INSERT OR IGNORE INTO form_indicators (form_id, indicator_id)
    SELECT NEW.id, i.id FROM json_each(NEW.definition, '$.rows') AS r
    JOIN indicators i ON i.code = json_extract(r.value, '$.indicator');
END;
CREATE TRIGGER forms_indicators_update AFTER UPDATE OF definition ON forms
BEGIN
    DELETE FROM form_indicators WHERE form_id = NEW.id;
    INSERT OR IGNORE INTO form_indicators (form_id, indicator_id)
    SELECT NEW.id, i.id FROM json_each(NEW.definition, '$.rows') AS r
    JOIN indicators i ON i.code = json_extract(r.value, '$.indicator');
END;
-- The reports of a unit and period, for that rule.
CREATE INDEX reports_unit_period ON reports (unit_id, period);
