-- Feeds (nguồn cấp số liệu) and where every stored value came from.
--
-- A feed is another system whose figures are pulled on a schedule
-- (core::feed::Feed, JSON); each run is recorded, whatever its outcome,
-- with the records it refused and why.

CREATE TABLE feeds (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    definition   TEXT NOT NULL,
    -- When the next fetch is due; a claimed run sets claimed_at, so that
    -- two processes never fetch the same feed at once.
    next_run_at  TIMESTAMPTZ NOT NULL,
    claimed_at   TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE feed_runs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed_id      BIGINT NOT NULL REFERENCES feeds (id),
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('stored', 'failed')),
    http_status  INTEGER,
    records      BIGINT NOT NULL DEFAULT 0,
    -- Values written, of which new (the others replaced a value).
    stored       BIGINT NOT NULL DEFAULT 0,
    new_values   BIGINT NOT NULL DEFAULT 0,
    -- Refusals: a record refused whole counts once.
    refused      BIGINT NOT NULL DEFAULT 0,
    -- Why the run failed, or nothing.
    message      TEXT,
    -- JSON [{record, message}] of the first refusals (core::feed::Refusal).
    refusals     TEXT
);
CREATE INDEX feed_runs_feed ON feed_runs (feed_id, id);

-- Where stored values came from when they were not entered in a report:
-- a file or API import, or a feed's run. A value whose source_id is NULL
-- was entered (its report's revisions say by whom) or stored before
-- sources were kept.
CREATE TABLE value_sources (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('import', 'feed')),
    -- The file, the API, the feed's name.
    label        TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    feed_run_id  BIGINT REFERENCES feed_runs (id)
);

ALTER TABLE data_values ADD COLUMN source_id BIGINT REFERENCES value_sources (id);
-- The record's identifier in the system a value was pulled from.
ALTER TABLE data_values ADD COLUMN source_record TEXT;
