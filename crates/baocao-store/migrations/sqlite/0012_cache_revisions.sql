-- Servers keep in memory what every request reads and what rarely
-- changes: the catalog (indicators, forms, regimes) and the principals of
-- API tokens (accounts, grants, tokens). Every change to those tables,
-- whoever makes it, bumps the revision of its kind here, and a server
-- compares the number before each use, so a revoked token or a changed form
-- is never served from memory.
CREATE TABLE cache_revisions (
    name     TEXT PRIMARY KEY,
    revision BIGINT NOT NULL
);
INSERT INTO cache_revisions (name, revision) VALUES ('catalog', 0), ('access', 0);
CREATE TRIGGER indicators_insert_revision AFTER INSERT ON indicators
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'catalog'; END;
CREATE TRIGGER indicators_update_revision AFTER UPDATE ON indicators
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'catalog'; END;
CREATE TRIGGER indicators_delete_revision AFTER DELETE ON indicators
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'catalog'; END;
CREATE TRIGGER forms_insert_revision AFTER INSERT ON forms
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'catalog'; END;
CREATE TRIGGER forms_update_revision AFTER UPDATE ON forms
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'catalog'; END;
CREATE TRIGGER forms_delete_revision AFTER DELETE ON forms
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'catalog'; END;
CREATE TRIGGER regimes_insert_revision AFTER INSERT ON regimes
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'catalog'; END;
CREATE TRIGGER regimes_update_revision AFTER UPDATE ON regimes
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'catalog'; END;
CREATE TRIGGER regimes_delete_revision AFTER DELETE ON regimes
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'catalog'; END;
CREATE TRIGGER accounts_insert_revision AFTER INSERT ON accounts
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'access'; END;
CREATE TRIGGER accounts_update_revision AFTER UPDATE ON accounts
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'access'; END;
CREATE TRIGGER accounts_delete_revision AFTER DELETE ON accounts
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'access'; END;
CREATE TRIGGER grants_insert_revision AFTER INSERT ON grants
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'access'; END;
CREATE TRIGGER grants_update_revision AFTER UPDATE ON grants
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'access'; END;
CREATE TRIGGER grants_delete_revision AFTER DELETE ON grants
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'access'; END;
CREATE TRIGGER api_tokens_insert_revision AFTER INSERT ON api_tokens
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'access'; END;
CREATE TRIGGER api_tokens_update_revision AFTER UPDATE ON api_tokens
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'access'; END;
CREATE TRIGGER api_tokens_delete_revision AFTER DELETE ON api_tokens
BEGIN UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'access'; END;
