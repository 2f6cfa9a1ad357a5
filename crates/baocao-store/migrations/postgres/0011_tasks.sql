-- The plans' task tables and targets, followed up in baocao.
CREATE TABLE tasks (
    plan         TEXT NOT NULL,
    number       TEXT NOT NULL,
    title        TEXT NOT NULL,
    lead         TEXT NOT NULL,
    coordinating TEXT NOT NULL,
    deadline     DATE NOT NULL,
    product      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'done')),
    done_on      DATE,
    evidence     TEXT,
    PRIMARY KEY (plan, number)
);

-- A target: a definition (JSON) measured against reported indicators.
CREATE TABLE targets (
    code       TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);
