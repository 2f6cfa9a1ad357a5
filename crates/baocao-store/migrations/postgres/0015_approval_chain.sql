-- Approval in several levels: how many levels of the regime's chain have
-- approved a report as it was last sent (0 when sent, returned or
-- reopened), and at which level each approval or return was decided.
ALTER TABLE reports ADD COLUMN approvals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_revisions ADD COLUMN level BIGINT;
