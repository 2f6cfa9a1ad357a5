-- The keys of data values checked once a statement instead of once a row
-- (issue 20). A foreign key checks each row it writes with a query of its
-- own: three a value (indicator, unit, source), 3 million for a national
-- month's import, a third of PostgreSQL's time when reports are submitted.
-- The same rule is kept by triggers that see a statement's rows at once:
--
-- * after an insert or an update of values, every indicator, unit and
--   source they name must exist, and is locked against deletion until the
--   transaction ends (`FOR KEY SHARE`, the lock a foreign key's check
--   takes);
-- * after a deletion of indicators, units or sources, none may still be
--   named by a value. A deletion waits for the writers holding those locks;
--   its check then runs with a fresh snapshot (baocao writes in READ
--   COMMITTED) and sees what they committed;
-- * the ids of indicators, units and sources never change.
--
-- The errors keep the foreign keys' SQLSTATE (23503) and constraint names,
-- so that what reads them reads the same. SQLite keeps its foreign keys:
-- it checks each row by an index lookup inside its own program, with no
-- query started.

ALTER TABLE data_values
    DROP CONSTRAINT data_values_indicator_id_fkey,
    DROP CONSTRAINT data_values_unit_id_fkey,
    DROP CONSTRAINT data_values_source_id_fkey;

-- The error a foreign key gives for a value naming what does not exist.
CREATE FUNCTION data_values_key_missing(col TEXT, tab TEXT, missing BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "data_values" violates foreign key constraint "%"',
            'data_values_' || col || '_fkey'
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'data_values_' || col || '_fkey',
              TABLE = 'data_values', DETAIL = format('Key (%s)=(%s) is not present in table "%s".', col, missing, tab);
END
$$;

-- Each key: the distinct ids the statement wrote, looked up by the
-- primary key (`= ANY`: an index scan, where a join with the transition
-- table, whose size the planner does not know, hashed every unit) and
-- locked; counting the locked rows reads them all, so all are locked.
-- Static statements, so that each is planned once a session.
CREATE FUNCTION data_values_keys_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted BIGINT[];
    locked BIGINT;
BEGIN
    wanted := ARRAY(SELECT DISTINCT unit_id FROM written);
    SELECT count(*) INTO locked FROM (SELECT 1 FROM units r WHERE r.id = ANY (wanted) FOR KEY SHARE OF r) l;
    IF locked < cardinality(wanted) THEN
        PERFORM data_values_key_missing('unit_id', 'units',
            (SELECT w FROM unnest(wanted) w WHERE NOT EXISTS (SELECT 1 FROM units r WHERE r.id = w) LIMIT 1));
    END IF;
    wanted := ARRAY(SELECT DISTINCT indicator_id FROM written);
    SELECT count(*) INTO locked FROM (SELECT 1 FROM indicators r WHERE r.id = ANY (wanted) FOR KEY SHARE OF r) l;
    IF locked < cardinality(wanted) THEN
        PERFORM data_values_key_missing('indicator_id', 'indicators',
            (SELECT w FROM unnest(wanted) w WHERE NOT EXISTS (SELECT 1 FROM indicators r WHERE r.id = w) LIMIT 1));
    END IF;
    wanted := ARRAY(SELECT DISTINCT source_id FROM written WHERE source_id IS NOT NULL);
    SELECT count(*) INTO locked FROM (SELECT 1 FROM value_sources r WHERE r.id = ANY (wanted) FOR KEY SHARE OF r) l;
    IF locked < cardinality(wanted) THEN
        PERFORM data_values_key_missing('source_id', 'value_sources',
            (SELECT w FROM unnest(wanted) w WHERE NOT EXISTS (SELECT 1 FROM value_sources r WHERE r.id = w) LIMIT 1));
    END IF;
    RETURN NULL;
END
$$;

-- A statement's transition table cannot serve two events: one trigger each.
CREATE TRIGGER data_values_keys_inserted AFTER INSERT ON data_values
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION data_values_keys_exist();
CREATE TRIGGER data_values_keys_updated AFTER UPDATE ON data_values
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION data_values_keys_exist();

-- TG_ARGV: the column of data_values naming the deleted table's rows, and
-- the foreign key's name that error reports give.
CREATE FUNCTION data_values_keys_still_named() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    named BIGINT;
BEGIN
    EXECUTE format('SELECT g.id FROM gone g WHERE EXISTS (SELECT 1 FROM data_values d WHERE d.%I = g.id) LIMIT 1',
                   TG_ARGV[0])
        INTO named;
    IF named IS NOT NULL THEN
        RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "data_values"',
                TG_TABLE_NAME, TG_ARGV[1]
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[1], TABLE = 'data_values',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "data_values".', named);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION data_values_keys_never_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the id of a row of "%" never changes: data values name it', TG_TABLE_NAME
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[0];
END
$$;

CREATE TRIGGER data_values_unit_deleted AFTER DELETE ON units REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION data_values_keys_still_named('unit_id', 'data_values_unit_id_fkey');
CREATE TRIGGER data_values_indicator_deleted AFTER DELETE ON indicators REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION data_values_keys_still_named('indicator_id', 'data_values_indicator_id_fkey');
CREATE TRIGGER data_values_source_deleted AFTER DELETE ON value_sources REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION data_values_keys_still_named('source_id', 'data_values_source_id_fkey');

CREATE TRIGGER data_values_unit_id_fixed BEFORE UPDATE OF id ON units FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION data_values_keys_never_change('data_values_unit_id_fkey');
CREATE TRIGGER data_values_indicator_id_fixed BEFORE UPDATE OF id ON indicators FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION data_values_keys_never_change('data_values_indicator_id_fkey');
CREATE TRIGGER data_values_source_id_fixed BEFORE UPDATE OF id ON value_sources FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION data_values_keys_never_change('data_values_source_id_fkey');
