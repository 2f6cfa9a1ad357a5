//! How an applied reorganization is written: the new unit versions, the
//! stored versions it ends, and its lineage edges, each backend its own way.
//!
//! A version that the same application both adds and ends (the baseline of
//! a national load, ended by the reform loaded with it) is written once in
//! its final state rather than inserted and then updated.
//!
//! SQLite receives rows as bound multi-row `VALUES`: its JSON functions hand
//! each array element over as text that every `->>` parses again, which
//! made a national load spend most of its time re-reading JSON. PostgreSQL
//! unpacks one JSON parameter per statement with `jsonb_to_recordset`,
//! which parses it once.

use std::collections::HashMap;

use baocao_core::reorg::EndedVersion;
use baocao_core::text::fold;
use baocao_core::{AppliedDelta, Edge, UnitVersion};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{PgConnection, QueryBuilder, Sqlite, SqliteConnection};

use crate::StoreError;
use crate::sql::ROWS;

/// A unit version to insert, in its final state.
#[derive(Serialize)]
struct NewRow<'a> {
    code: &'a str,
    name: &'a str,
    search_name: String,
    kind: &'a str,
    level: u8,
    parent_code: Option<&'a str>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    created_by: Option<i64>,
    ended_by: Option<i64>,
    archive_note: Option<&'a str>,
}

impl<'a> NewRow<'a> {
    fn new(unit: &'a UnitVersion, created_by: Option<i64>) -> Self {
        NewRow {
            code: &unit.code,
            name: &unit.name,
            search_name: fold(&unit.name),
            kind: unit.kind.as_str(),
            level: unit.level,
            parent_code: unit.parent_code.as_deref(),
            valid_from: unit.validity.from,
            valid_to: unit.validity.to,
            created_by,
            ended_by: None,
            archive_note: unit.archive_note.as_deref(),
        }
    }
}

/// Everything one application of reorganization `rid` writes.
pub(crate) struct Writes<'a> {
    rid: i64,
    effective: NaiveDate,
    /// The baseline versions added, then the versions begun.
    rows: Vec<NewRow<'a>>,
    /// Versions stored before this application that it ends.
    stored_ends: Vec<&'a EndedVersion>,
    edges: &'a [Edge],
}

impl<'a> Writes<'a> {
    pub(crate) fn new(added: &'a [UnitVersion], delta: &'a AppliedDelta, rid: i64) -> Self {
        let effective = delta.info.effective_date;
        let mut ends: HashMap<(&str, Option<NaiveDate>), &EndedVersion> =
            delta.ended.iter().map(|e| ((e.key.code.as_str(), e.key.valid_from), e)).collect();
        let mut rows: Vec<NewRow<'a>> = Vec::with_capacity(added.len() + delta.begun.len());
        for unit in added {
            let mut row = NewRow::new(unit, None);
            if let Some(end) = ends.remove(&(unit.code.as_str(), unit.validity.from)) {
                row.valid_to = Some(effective);
                row.ended_by = Some(rid);
                row.archive_note = end.archive_note.as_deref();
            }
            rows.push(row);
        }
        rows.extend(delta.begun.iter().map(|unit| NewRow::new(unit, Some(rid))));
        // In the plan's order, as the registry lists them.
        let stored_ends = delta.ended.iter().filter(|e| ends.contains_key(&(e.key.code.as_str(), e.key.valid_from)));
        Writes { rid, effective, rows, stored_ends: stored_ends.collect(), edges: &delta.edges }
    }

    async fn sqlite(&self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        // The write lock is held (BEGIN IMMEDIATE), so the ids after the
        // largest are ours to give; knowing them, lineage needs no lookups.
        let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM units").fetch_one(&mut *conn).await?;
        let mut ids: HashMap<(&str, Option<NaiveDate>), i64> = HashMap::with_capacity(self.rows.len());
        let mut written = 0;
        for (n, chunk) in self.rows.chunks(ROWS).enumerate() {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO units (id, code, name, search_name, kind, level, parent_code, valid_from, valid_to,
                    created_by, ended_by, archive_note) ",
            );
            let mut id = first + (n * ROWS) as i64;
            insert.push_values(chunk, |mut b, r| {
                ids.insert((r.code, r.valid_from), id);
                b.push_bind(id)
                    .push_bind(r.code)
                    .push_bind(r.name)
                    .push_bind(&r.search_name)
                    .push_bind(r.kind)
                    .push_bind(i64::from(r.level))
                    .push_bind(r.parent_code)
                    .push_bind(r.valid_from)
                    .push_bind(r.valid_to)
                    .push_bind(r.created_by)
                    .push_bind(r.ended_by)
                    .push_bind(r.archive_note);
                id += 1;
            });
            written += insert.build().execute(&mut *conn).await?.rows_affected();
        }
        expect_rows("units", written, self.rows.len())?;

        // Versions stored before this application that it ends or links:
        // their ids, found by identity in one statement per chunk.
        let ends = self.stored_ends.iter().map(|e| (e.key.code.as_str(), e.key.valid_from));
        let linked = self
            .edges
            .iter()
            .flat_map(|e| [(e.from.code.as_str(), e.from.valid_from), (e.to.code.as_str(), e.to.valid_from)]);
        let mut stored: Vec<(&str, Option<NaiveDate>)> = ends.chain(linked).filter(|k| !ids.contains_key(k)).collect();
        stored.sort_unstable();
        stored.dedup();
        for chunk in stored.chunks(ROWS) {
            let mut select = QueryBuilder::<Sqlite>::new("SELECT u.code, u.valid_from, u.id FROM (");
            select.push_values(chunk, |mut b, (code, valid_from)| {
                b.push_bind(*code).push_bind(*valid_from);
            });
            select.push(
                ") AS x JOIN units u ON u.code = x.column1
                    AND COALESCE(u.valid_from, '0001-01-01') = COALESCE(x.column2, '0001-01-01')",
            );
            let found: Vec<(String, Option<NaiveDate>, i64)> = select.build_query_as().fetch_all(&mut *conn).await?;
            for (code, valid_from, id) in found {
                // `stored` is sorted, so each chunk is.
                if let Ok(i) = chunk.binary_search(&(code.as_str(), valid_from)) {
                    ids.insert(chunk[i], id);
                }
            }
        }
        let id_of = |code: &str, valid_from: Option<NaiveDate>| {
            ids.get(&(code, valid_from))
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("no stored version of {code} from {valid_from:?}")))
        };

        let ends = self
            .stored_ends
            .iter()
            .map(|e| Ok((id_of(&e.key.code, e.key.valid_from)?, e.archive_note.as_deref())))
            .collect::<Result<Vec<_>, StoreError>>()?;
        for chunk in ends.chunks(ROWS) {
            let mut update = QueryBuilder::<Sqlite>::new("UPDATE units SET valid_to = ");
            update.push_bind(self.effective).push(", ended_by = ").push_bind(self.rid);
            update.push(", archive_note = x.column2 FROM (");
            update.push_values(chunk, |mut b, (id, note)| {
                b.push_bind(*id).push_bind(*note);
            });
            update.push(") AS x WHERE units.id = x.column1");
            update.build().execute(&mut *conn).await?;
        }

        let links = self
            .edges
            .iter()
            .map(|e| Ok((id_of(&e.from.code, e.from.valid_from)?, id_of(&e.to.code, e.to.valid_from)?, e)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        for chunk in links.chunks(ROWS) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO lineage (predecessor_id, successor_id, reorganization_id, partial, weight) ",
            );
            insert.push_values(chunk, |mut b, (from, to, e)| {
                b.push_bind(*from).push_bind(*to).push_bind(self.rid).push_bind(e.partial).push_bind(e.weight);
            });
            insert.build().execute(&mut *conn).await?;
        }
        Ok(())
    }

    async fn postgres(&self, conn: &mut PgConnection) -> Result<(), StoreError> {
        let written = sqlx::query(
            "INSERT INTO units (code, name, search_name, kind, level, parent_code, valid_from, valid_to,
                created_by, ended_by, archive_note)
             SELECT code, name, search_name, kind, level, parent_code, valid_from, valid_to,
                created_by, ended_by, archive_note
             FROM jsonb_to_recordset($1::jsonb) AS x(code text, name text, search_name text, kind text, level int,
                parent_code text, valid_from date, valid_to date, created_by bigint, ended_by bigint,
                archive_note text)",
        )
        .bind(json(&self.rows))
        .execute(&mut *conn)
        .await?;
        expect_rows("units", written.rows_affected(), self.rows.len())?;

        #[derive(Serialize)]
        struct End<'a> {
            code: &'a str,
            valid_from: Option<NaiveDate>,
            archive_note: Option<&'a str>,
        }
        let ends: Vec<End<'_>> = self
            .stored_ends
            .iter()
            .map(|e| End { code: &e.key.code, valid_from: e.key.valid_from, archive_note: e.archive_note.as_deref() })
            .collect();
        let written = sqlx::query(
            "UPDATE units SET valid_to = $1, ended_by = $2, archive_note = x.archive_note
             FROM jsonb_to_recordset($3::jsonb) AS x(code text, valid_from date, archive_note text)
             WHERE units.code = x.code
               AND COALESCE(units.valid_from, DATE '0001-01-01') = COALESCE(x.valid_from, DATE '0001-01-01')",
        )
        .bind(self.effective)
        .bind(self.rid)
        .bind(json(&ends))
        .execute(&mut *conn)
        .await?;
        expect_rows("ended versions", written.rows_affected(), ends.len())?;

        #[derive(Serialize)]
        struct Link<'a> {
            from_code: &'a str,
            from_valid_from: Option<NaiveDate>,
            to_code: &'a str,
            to_valid_from: Option<NaiveDate>,
            partial: bool,
            weight: Option<f64>,
        }
        let links: Vec<Link<'_>> = self
            .edges
            .iter()
            .map(|e| Link {
                from_code: &e.from.code,
                from_valid_from: e.from.valid_from,
                to_code: &e.to.code,
                to_valid_from: e.to.valid_from,
                partial: e.partial,
                weight: e.weight,
            })
            .collect();
        let written = sqlx::query(
            "INSERT INTO lineage (predecessor_id, successor_id, reorganization_id, partial, weight)
             SELECT p.id, s.id, $2, x.partial, x.weight
             FROM jsonb_to_recordset($1::jsonb) AS x(from_code text, from_valid_from date, to_code text,
                  to_valid_from date, partial boolean, weight float8)
             JOIN units p ON p.code = x.from_code
                  AND COALESCE(p.valid_from, DATE '0001-01-01') = COALESCE(x.from_valid_from, DATE '0001-01-01')
             JOIN units s ON s.code = x.to_code
                  AND COALESCE(s.valid_from, DATE '0001-01-01') = COALESCE(x.to_valid_from, DATE '0001-01-01')",
        )
        .bind(json(&links))
        .bind(self.rid)
        .execute(&mut *conn)
        .await?;
        expect_rows("lineage", written.rows_affected(), links.len())
    }
}

/// A connection that [`Writes`] can be written to.
pub(crate) trait Target {
    fn write<'c>(&'c mut self, writes: &'c Writes<'_>) -> impl Future<Output = Result<(), StoreError>> + Send + 'c;
}

impl Target for SqliteConnection {
    fn write<'c>(&'c mut self, writes: &'c Writes<'_>) -> impl Future<Output = Result<(), StoreError>> + Send + 'c {
        writes.sqlite(self)
    }
}

impl Target for PgConnection {
    fn write<'c>(&'c mut self, writes: &'c Writes<'_>) -> impl Future<Output = Result<(), StoreError>> + Send + 'c {
        writes.postgres(self)
    }
}

fn json<T: Serialize>(rows: &T) -> String {
    serde_json::to_string(rows).expect("plain data serializes")
}

/// Fails unless the statements touched exactly `expected` rows: a version
/// decided on but not found would mean the registry changed under us.
fn expect_rows(what: &str, affected: u64, expected: usize) -> Result<(), StoreError> {
    if affected == expected as u64 {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!("{what}: {affected} rows written, {expected} expected")))
    }
}
