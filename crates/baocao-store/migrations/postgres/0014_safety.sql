-- Readiness writes this row when the last write did not commit, to learn
-- whether the database can write again (a full disk, a read-only file).
INSERT INTO cache_revisions (name, revision) VALUES ('probe', 0);

-- What an approved report shows (figures, findings, names, signer), fixed
-- when it is approved (core::report::Frozen as JSON); cleared when it is
-- reopened.
ALTER TABLE reports ADD COLUMN frozen TEXT;
