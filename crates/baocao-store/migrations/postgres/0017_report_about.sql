-- The area whose figures a report gives, when it is not its own unit's: an
-- agency's report under a regime that says `about = "area"` or
-- `"province"`. Set as the report is written, so an approved report keeps
-- what it was filed as whatever the regime says later.
ALTER TABLE reports ADD COLUMN about_unit_id BIGINT REFERENCES units (id);
CREATE INDEX reports_about ON reports (about_unit_id, period) WHERE about_unit_id IS NOT NULL;
