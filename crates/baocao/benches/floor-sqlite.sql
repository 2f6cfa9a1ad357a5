-- The least any loader into baocao's schema can do on SQLite: the rows a
-- national load stores (units.csv, lineage.csv, exported from a database
-- baocao loaded), read from CSV and inserted into baocao's own tables with
-- their indexes, checks and foreign keys, on the connection settings
-- baocao uses. No parsing of the national lists, no validation, no
-- lineage derivation. Run after schema.sql, which holds the migrations.
PRAGMA foreign_keys = ON;
CREATE TEMP TABLE csv_units (id, code, name, search_name, kind, level, parent_code, valid_from, valid_to,
    created_by, ended_by, archive_note, agency_kind, area_code);
CREATE TEMP TABLE csv_lineage (id, predecessor_id, successor_id, reorganization_id, partial, weight);
.import --csv units.csv csv_units
.import --csv lineage.csv csv_lineage
BEGIN;
INSERT INTO reorganizations (id, key, name, effective_date, checksum, plan, applied_at)
    VALUES (1, 'floor', 'floor', '2025-07-01', '', '', '');
INSERT INTO units SELECT id, code, name, search_name, kind, level, NULLIF(parent_code, ''), NULLIF(valid_from, ''),
    NULLIF(valid_to, ''), NULLIF(created_by, ''), NULLIF(ended_by, ''), NULLIF(archive_note, ''),
    NULLIF(agency_kind, ''), NULLIF(area_code, '') FROM csv_units;
INSERT INTO lineage SELECT id, predecessor_id, successor_id, reorganization_id, partial, NULLIF(weight, '')
    FROM csv_lineage;
COMMIT;
