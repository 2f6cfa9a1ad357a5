-- Agency lineage: who takes over from an agency that ends (a JSON array of
-- agency codes), or the decision that sends its records to the archive.
ALTER TABLE agencies ADD COLUMN successor_codes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agencies ADD COLUMN archive TEXT;
