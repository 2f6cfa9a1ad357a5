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

CREATE FUNCTION bump_cache_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_revisions SET revision = revision + 1 WHERE name = TG_ARGV[0];
    RETURN NULL;
END $$;
CREATE TRIGGER indicators_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON indicators
FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_revision('catalog');
CREATE TRIGGER forms_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON forms
FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_revision('catalog');
CREATE TRIGGER regimes_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON regimes
FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_revision('catalog');
CREATE TRIGGER accounts_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_revision('access');
CREATE TRIGGER grants_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_revision('access');
CREATE TRIGGER api_tokens_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_tokens
FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_revision('access');
