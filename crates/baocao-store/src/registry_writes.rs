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
//! unpacks typed arrays with `UNNEST`, one statement per table: it spent
//! more time parsing one JSON parameter (`jsonb_to_recordset`) and joining
//! lineage to the units just inserted than writing them.

use std::collections::HashMap;

use baocao_core::reorg::EndedVersion;
use baocao_core::text::fold;
use baocao_core::{AppliedDelta, Edge, UnitVersion};
use chrono::NaiveDate;
use sqlx::{PgConnection, QueryBuilder, Sqlite, SqliteConnection};

use crate::StoreError;
use crate::sql::{ROWS, pipelined};

/// A unit version to insert, in its final state.
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
        let mut ids: HashMap<Key<'a>, i64> = HashMap::with_capacity(self.rows.len());
        for (id, row) in (first..).zip(&self.rows) {
            ids.insert((row.code, row.valid_from), id);
        }
        let inserts = self.rows.chunks(ROWS).zip((first..).step_by(ROWS)).map(|(chunk, first)| {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO units (id, code, name, search_name, kind, level, parent_code, valid_from, valid_to,
                    created_by, ended_by, archive_note) ",
            );
            let mut id = first;
            insert.push_values(chunk, |mut b, r| {
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
            insert
        });
        let written = pipelined(conn, inserts).await?;
        expect_rows("units", written, self.rows.len())?;

        // Versions stored before this application that it ends or links:
        // their ids, found by identity in one statement per chunk.
        let stored = self.stored_keys(&ids);
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

        for chunk in self.ends_by_id(&ids)?.chunks(ROWS) {
            let mut update = QueryBuilder::<Sqlite>::new("UPDATE units SET valid_to = ");
            update.push_bind(self.effective).push(", ended_by = ").push_bind(self.rid);
            update.push(", archive_note = x.column2 FROM (");
            update.push_values(chunk, |mut b, (id, note)| {
                b.push_bind(*id).push_bind(*note);
            });
            update.push(") AS x WHERE units.id = x.column1");
            update.build().execute(&mut *conn).await?;
        }

        let links = self.links_by_id(&ids)?;
        let inserts = links.chunks(ROWS).map(|chunk| {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO lineage (predecessor_id, successor_id, reorganization_id, partial, weight) ",
            );
            insert.push_values(chunk, |mut b, (from, to, e)| {
                b.push_bind(*from).push_bind(*to).push_bind(self.rid).push_bind(e.partial).push_bind(e.weight);
            });
            insert
        });
        pipelined(conn, inserts).await?;
        Ok(())
    }

    /// Stored versions this application ends or links that `ids` does not
    /// hold (those it inserted): sorted, each once.
    fn stored_keys(&self, ids: &HashMap<Key<'a>, i64>) -> Vec<Key<'a>> {
        let ends = self.stored_ends.iter().map(|e| (e.key.code.as_str(), e.key.valid_from));
        let linked = self
            .edges
            .iter()
            .flat_map(|e| [(e.from.code.as_str(), e.from.valid_from), (e.to.code.as_str(), e.to.valid_from)]);
        let mut stored: Vec<Key<'a>> = ends.chain(linked).filter(|k| !ids.contains_key(k)).collect();
        stored.sort_unstable();
        stored.dedup();
        stored
    }

    /// The stored versions ended, by id, with their archive notes.
    fn ends_by_id(&self, ids: &HashMap<Key<'a>, i64>) -> Result<Vec<(i64, Option<&'a str>)>, StoreError> {
        self.stored_ends
            .iter()
            .map(|e| Ok((id_of(ids, &e.key.code, e.key.valid_from)?, e.archive_note.as_deref())))
            .collect()
    }

    /// The lineage edges, by the ids of their two versions.
    fn links_by_id(&self, ids: &HashMap<Key<'a>, i64>) -> Result<Vec<(i64, i64, &'a Edge)>, StoreError> {
        self.edges
            .iter()
            .map(|e| Ok((id_of(ids, &e.from.code, e.from.valid_from)?, id_of(ids, &e.to.code, e.to.valid_from)?, e)))
            .collect()
    }

    /// The write on PostgreSQL: [`Self::postgres_rows`], its foreign keys
    /// checked once when it is a bulk write.
    async fn postgres(&self, conn: &mut PgConnection) -> Result<(), StoreError> {
        if self.rows.len() + self.edges.len() < BULK {
            return self.postgres_rows(conn).await;
        }
        // A bulk write (a national load) checks its foreign keys once, as
        // pg_restore does: each checked row by row costs more than writing
        // the row (three lookups a lineage edge). The constraints are taken
        // off and put back, as they are defined, in this transaction: they
        // hold for every row when it commits, or nothing is written. The
        // registry's tables are locked for others meanwhile, a second or so.
        let keys: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
             WHERE c.contype = 'f' AND c.conrelid IN ('units'::regclass, 'lineage'::regclass) ORDER BY c.oid",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (table, name, _) in &keys {
            sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT {}", quoted(name))).execute(&mut *conn).await?;
        }
        self.postgres_rows(conn).await?;
        for (table, name, definition) in &keys {
            sqlx::query(&format!("ALTER TABLE {table} ADD CONSTRAINT {} {definition}", quoted(name)))
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// PostgreSQL receives each statement's rows as typed arrays, unpacked
    /// by `UNNEST`: sent in binary, with nothing to parse. The versions
    /// inserted give back their ids, so lineage is written by id, with no
    /// join against `units` (whose statistics, the table just filled, would
    /// still say it is empty).
    async fn postgres_rows(&self, conn: &mut PgConnection) -> Result<(), StoreError> {
        let rows = &self.rows;
        let inserted: Vec<(i64, String, Option<NaiveDate>)> = sqlx::query_as(
            "INSERT INTO units (code, name, search_name, kind, level, parent_code, valid_from, valid_to,
                created_by, ended_by, archive_note)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
                $7::date[], $8::date[], $9::bigint[], $10::bigint[], $11::text[])
             RETURNING id, code, valid_from",
        )
        .bind(column(rows, |r| r.code))
        .bind(column(rows, |r| r.name))
        .bind(column(rows, |r| r.search_name.as_str()))
        .bind(column(rows, |r| r.kind))
        .bind(column(rows, |r| i32::from(r.level)))
        .bind(column(rows, |r| r.parent_code))
        .bind(column(rows, |r| r.valid_from))
        .bind(column(rows, |r| r.valid_to))
        .bind(column(rows, |r| r.created_by))
        .bind(column(rows, |r| r.ended_by))
        .bind(column(rows, |r| r.archive_note))
        .fetch_all(&mut *conn)
        .await?;
        expect_rows("units", inserted.len() as u64, rows.len())?;
        let by_key: HashMap<Key<'_>, i64> =
            inserted.iter().map(|(id, code, valid_from)| ((code.as_str(), *valid_from), *id)).collect();
        // Keyed by the rows' own strings, which outlive the statement's.
        let mut ids: HashMap<Key<'a>, i64> = HashMap::with_capacity(rows.len());
        for r in rows {
            let id = by_key.get(&(r.code, r.valid_from)).copied();
            ids.insert(
                (r.code, r.valid_from),
                id.ok_or_else(|| StoreError::Corrupt(format!("unit {} not inserted", r.code)))?,
            );
        }

        let stored = self.stored_keys(&ids);
        let found: Vec<(i64, String, Option<NaiveDate>)> = sqlx::query_as(
            "SELECT u.id, u.code, u.valid_from FROM UNNEST($1::text[], $2::date[]) AS x(code, valid_from)
             JOIN units u ON u.code = x.code
                  AND COALESCE(u.valid_from, DATE '0001-01-01') = COALESCE(x.valid_from, DATE '0001-01-01')",
        )
        .bind(column(&stored, |k| k.0))
        .bind(column(&stored, |k| k.1))
        .fetch_all(&mut *conn)
        .await?;
        for (id, code, valid_from) in found {
            if let Ok(i) = stored.binary_search(&(code.as_str(), valid_from)) {
                ids.insert(stored[i], id);
            }
        }

        let ends = self.ends_by_id(&ids)?;
        let written = sqlx::query(
            "UPDATE units SET valid_to = $1, ended_by = $2, archive_note = x.note
             FROM UNNEST($3::bigint[], $4::text[]) AS x(id, note) WHERE units.id = x.id",
        )
        .bind(self.effective)
        .bind(self.rid)
        .bind(column(&ends, |e| e.0))
        .bind(column(&ends, |e| e.1))
        .execute(&mut *conn)
        .await?;
        expect_rows("ended versions", written.rows_affected(), ends.len())?;

        let links = self.links_by_id(&ids)?;
        let written = sqlx::query(
            "INSERT INTO lineage (predecessor_id, successor_id, reorganization_id, partial, weight)
             SELECT x.p, x.s, $5, x.partial, x.weight
             FROM UNNEST($1::bigint[], $2::bigint[], $3::boolean[], $4::float8[]) AS x(p, s, partial, weight)",
        )
        .bind(column(&links, |l| l.0))
        .bind(column(&links, |l| l.1))
        .bind(column(&links, |l| l.2.partial))
        .bind(column(&links, |l| l.2.weight))
        .bind(self.rid)
        .execute(&mut *conn)
        .await?;
        expect_rows("lineage", written.rows_affected(), links.len())
    }
}

/// From how many rows (versions and edges) a write on PostgreSQL checks
/// its foreign keys once rather than row by row: a national load's
/// baseline and reform (about 28,000), not a province's reorganization.
const BULK: usize = 5_000;

/// An identifier as SQL reads it, quoted.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One field of every row: what PostgreSQL receives as one array.
fn column<'r, R, T>(rows: &'r [R], field: impl Fn(&'r R) -> T) -> Vec<T> {
    rows.iter().map(field).collect()
}

/// A unit version's identity: its code and the day it begins.
type Key<'a> = (&'a str, Option<NaiveDate>);

fn id_of(ids: &HashMap<Key<'_>, i64>, code: &str, valid_from: Option<NaiveDate>) -> Result<i64, StoreError> {
    ids.get(&(code, valid_from))
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("no stored version of {code} from {valid_from:?}")))
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

/// Fails unless the statements touched exactly `expected` rows: a version
/// decided on but not found would mean the registry changed under us.
fn expect_rows(what: &str, affected: u64, expected: usize) -> Result<(), StoreError> {
    if affected == expected as u64 {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!("{what}: {affected} rows written, {expected} expected")))
    }
}
