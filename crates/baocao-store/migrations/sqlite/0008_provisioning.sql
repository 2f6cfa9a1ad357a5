-- What provisioning clients (SCIM) keep of an account: their own
-- identifier for it, and when they withdrew it. A withdrawn account is
-- closed and no longer served through SCIM, but kept: the audit log and the
-- reports name it.
ALTER TABLE accounts ADD COLUMN external_id TEXT;
ALTER TABLE accounts ADD COLUMN withdrawn_at TEXT;
