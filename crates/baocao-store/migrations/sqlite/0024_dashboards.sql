-- Favourites: an account's saved views of a page (`page`: analysis, the
-- pivot; quality, a regime's data quality), kept as the page's query
-- string, so that opening one composes its figures anew (and for whoever
-- opens it, within what they may see).
CREATE TABLE favourites (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    page        TEXT NOT NULL CHECK (page IN ('analysis', 'quality')),
    name        TEXT NOT NULL,
    query       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (account_id, name)
);

-- Dashboards: several of an account's favourites on one page, shared with
-- the holders of a role, the accounts of a unit's tree, or both (none:
-- the owner's own). `on_home`: shown on the home page of those it is
-- shared with.
CREATE TABLE dashboards (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    name         TEXT NOT NULL,
    shared_role  TEXT,
    shared_unit  TEXT,
    on_home      BOOLEAN NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE dashboard_items (
    dashboard_id  INTEGER NOT NULL REFERENCES dashboards (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    favourite_id  INTEGER NOT NULL REFERENCES favourites (id) ON DELETE CASCADE,
    PRIMARY KEY (dashboard_id, position)
);
CREATE INDEX dashboard_items_favourite ON dashboard_items (favourite_id);
