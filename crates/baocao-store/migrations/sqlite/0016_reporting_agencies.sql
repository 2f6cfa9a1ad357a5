-- Agencies report like units: each agency version is also a reporting body
-- in `units` (kind 'cơ quan', level 9, under its parent agency if any,
-- never under an administrative unit), kept in step with `agencies` by the
-- agency import. These columns say which agency it is and whom it serves.
ALTER TABLE units ADD COLUMN agency_kind TEXT;
ALTER TABLE units ADD COLUMN area_code TEXT;

-- The agencies already listed become reporting bodies now (their names
-- are not searched as units', so the name stands for the folded one).
INSERT INTO units (code, name, search_name, kind, level, parent_code, valid_from, valid_to, agency_kind, area_code)
SELECT a.code, a.name, a.name, 'cơ quan', 9, a.parent_code, a.valid_from, a.valid_to, a.kind, a.unit_code
FROM agencies a
WHERE NOT EXISTS (SELECT 1 FROM units u WHERE u.code = a.code AND u.kind <> 'cơ quan');
