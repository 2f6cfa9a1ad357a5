-- Follow-ups (cần xác minh): a value of a unit's report an approver marks
-- to be checked, with why, until someone who may approve it says what
-- was found. One per value; marking it again opens it again.
CREATE TABLE follow_ups (
    regime       TEXT NOT NULL,
    unit         TEXT NOT NULL,
    period       TEXT NOT NULL,
    indicator    TEXT NOT NULL,
    note         TEXT NOT NULL,
    marked_by    TEXT NOT NULL,
    marked_at    TEXT NOT NULL,
    resolved_by  TEXT,
    resolved_at  TEXT,
    resolution   TEXT,
    PRIMARY KEY (regime, period, unit, indicator)
);
