-- The approved report's printed PDF with its signature inside (PAdES),
-- kept beside the canonical JSON and its CMS signature. Empty for reports
-- signed before PDFs were; their JSON and signature stand.
ALTER TABLE report_signatures ADD COLUMN pdf BLOB;
