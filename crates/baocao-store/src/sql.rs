//! Statements whose text differs between backends. Bulk writes pass a
//! whole batch as one JSON parameter: SQLite unpacks it with `json_each`,
//! PostgreSQL with `jsonb_to_recordset`, so that a national load is a
//! handful of statements rather than tens of thousands of round trips.

pub struct Dialect {
    pub insert_units: &'static str,
    pub end_units: &'static str,
    pub insert_lineage: &'static str,
}

pub const SQLITE: Dialect = Dialect {
    insert_units: "INSERT INTO units (code, name, search_name, kind, level, parent_code, valid_from, valid_to, created_by, archive_note)
        SELECT value->>'code', value->>'name', value->>'search_name', value->>'kind', value->>'level',
               value->>'parent_code', value->>'valid_from', value->>'valid_to', $2, value->>'archive_note'
        FROM json_each($1)",
    end_units: "UPDATE units SET valid_to = $1, ended_by = $2 WHERE id IN (SELECT value FROM json_each($3))",
    insert_lineage: "INSERT INTO lineage (predecessor_id, successor_id, reorganization_id, partial, weight)
        SELECT value->>'predecessor_id', value->>'successor_id', $2, value->>'partial', value->>'weight'
        FROM json_each($1)",
};

pub const POSTGRES: Dialect = Dialect {
    insert_units: "INSERT INTO units (code, name, search_name, kind, level, parent_code, valid_from, valid_to, created_by, archive_note)
        SELECT code, name, search_name, kind, level, parent_code, valid_from, valid_to, $2, archive_note
        FROM jsonb_to_recordset($1::jsonb) AS x(code text, name text, search_name text, kind text, level int,
             parent_code text, valid_from date, valid_to date, archive_note text)",
    end_units: "UPDATE units SET valid_to = $1, ended_by = $2
        WHERE id IN (SELECT value::bigint FROM jsonb_array_elements_text($3::jsonb))",
    insert_lineage: "INSERT INTO lineage (predecessor_id, successor_id, reorganization_id, partial, weight)
        SELECT predecessor_id, successor_id, $2, partial, weight
        FROM jsonb_to_recordset($1::jsonb) AS x(predecessor_id bigint, successor_id bigint, partial boolean, weight float8)",
};
