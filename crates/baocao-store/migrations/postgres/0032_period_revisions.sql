-- The revision of each period's stored values and reports, bumped with the
-- `values` revision in the same transaction, for each period a write
-- touches. The numbers of a month kept in memory between compositions are
-- checked against their own period's row: a report filed for this month
-- leaves the numbers of earlier months kept. A period never written has no
-- row (revision 0).
CREATE TABLE period_revisions (
    period   TEXT PRIMARY KEY,
    revision BIGINT NOT NULL
);
