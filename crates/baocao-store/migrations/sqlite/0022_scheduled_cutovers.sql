-- Cutovers scheduled to take effect at 00:00 of their day (Vietnam time):
-- the plan file (on the server's disk, read when the job runs), the
-- outcome of its rehearsal the day before, and of its application.
-- `failed` is tried again at the next run (after the plan is mended).
CREATE TABLE scheduled_cutovers (
    key            TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    plan_path      TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'scheduled'
                   CHECK (state IN ('scheduled', 'applied', 'failed', 'cancelled')),
    rehearsal      TEXT,
    outcome        TEXT,
    scheduled_by   TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
