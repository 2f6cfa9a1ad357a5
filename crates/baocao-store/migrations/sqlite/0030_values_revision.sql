-- The revision of what composed figures are made of: stored values and the
-- reports whose status says which of them count. Every write of either
-- bumps it in its own transaction (`Db::store_values_in`, the report
-- writer), so that a server keeping composed figures in memory compares
-- one number before each use and never serves a figure older than the
-- data. Registry, catalog and access have their own revisions already.
INSERT INTO cache_revisions (name, revision) VALUES ('values', 0);
