//! The registry of administrative units in the database.
//!
//! Decisions (validation, lineage, mapping) are made by
//! [`baocao_core::Registry`]; this module loads it, writes what it decided,
//! and answers the frequent read queries directly in SQL.

use std::collections::HashMap;

use baocao_core::registry::unit_order;
use baocao_core::text::fold;
use baocao_core::{
    AppliedDelta, Edge, Registry, ReorgInfo, Reorganization, UnitKind, UnitVersion, Validity, VersionKey,
};
use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::sql::{Dialect, POSTGRES, SQLITE};
use crate::{Db, StoreError, with_pool, with_tx};

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: i64,
    code: String,
    name: String,
    kind: String,
    level: i32,
    parent_code: Option<String>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    archive_note: Option<String>,
}

impl UnitRow {
    fn into_unit(self) -> Result<UnitVersion, StoreError> {
        let kind: UnitKind = self.kind.parse().map_err(StoreError::Corrupt)?;
        Ok(UnitVersion {
            code: self.code,
            name: self.name,
            kind,
            level: u8::try_from(self.level).map_err(|_| StoreError::Corrupt(format!("level {}", self.level)))?,
            parent_code: self.parent_code,
            validity: Validity::new(self.valid_from, self.valid_to),
            archive_note: self.archive_note,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EdgeRow {
    from_code: String,
    from_valid_from: Option<NaiveDate>,
    to_code: String,
    to_valid_from: Option<NaiveDate>,
    partial: bool,
    weight: Option<f64>,
    reorganization: String,
}

#[derive(sqlx::FromRow)]
struct ReorgRow {
    key: String,
    name: String,
    effective_date: NaiveDate,
    legal_basis: Option<String>,
}

const UNIT_COLUMNS: &str = "id, code, name, kind, level, parent_code, valid_from, valid_to, archive_note";

const SELECT_ALL_UNITS: &str =
    "SELECT id, code, name, kind, level, parent_code, valid_from, valid_to, archive_note FROM units ORDER BY id";
const SELECT_EDGES: &str = "SELECT p.code AS from_code, p.valid_from AS from_valid_from,
        s.code AS to_code, s.valid_from AS to_valid_from, l.partial, l.weight, r.key AS reorganization
    FROM lineage l
    JOIN units p ON p.id = l.predecessor_id
    JOIN units s ON s.id = l.successor_id
    JOIN reorganizations r ON r.id = l.reorganization_id
    ORDER BY l.id";
const SELECT_REORGS: &str = "SELECT key, name, effective_date, legal_basis FROM reorganizations ORDER BY id";
const BUMP_REVISION: &str = "UPDATE registry_revision SET revision = revision + 1 WHERE id = 1";
const IN_FORCE: &str = "(u.valid_from IS NULL OR u.valid_from <= $1) AND (u.valid_to IS NULL OR u.valid_to > $1)";

fn build_registry(
    units: Vec<UnitRow>,
    edges: Vec<EdgeRow>,
    reorgs: Vec<ReorgRow>,
) -> Result<(Registry, HashMap<VersionKey, i64>), StoreError> {
    let mut ids = HashMap::with_capacity(units.len());
    let mut versions = Vec::with_capacity(units.len());
    for row in units {
        let id = row.id;
        let unit = row.into_unit()?;
        ids.insert(unit.key(), id);
        versions.push(unit);
    }
    let edges = edges
        .into_iter()
        .map(|e| Edge {
            from: VersionKey { code: e.from_code, valid_from: e.from_valid_from },
            to: VersionKey { code: e.to_code, valid_from: e.to_valid_from },
            partial: e.partial,
            weight: e.weight,
            reorganization: e.reorganization,
        })
        .collect();
    let reorgs = reorgs
        .into_iter()
        .map(|r| ReorgInfo { key: r.key, name: r.name, effective_date: r.effective_date, legal_basis: r.legal_basis })
        .collect();
    Ok((Registry::from_parts(versions, edges, reorgs), ids))
}

/// Loads the whole registry within the connection's current transaction.
macro_rules! load_registry {
    ($conn:expr) => {{
        let units: Vec<UnitRow> = sqlx::query_as(SELECT_ALL_UNITS).fetch_all(&mut *$conn).await?;
        let edges: Vec<EdgeRow> = sqlx::query_as(SELECT_EDGES).fetch_all(&mut *$conn).await?;
        let reorgs: Vec<ReorgRow> = sqlx::query_as(SELECT_REORGS).fetch_all(&mut *$conn).await?;
        build_registry(units, edges, reorgs)?
    }};
}

/// Reads the id of every unit version, keyed by identity.
macro_rules! id_map {
    ($conn:expr) => {{
        let rows: Vec<(i64, String, Option<NaiveDate>)> =
            sqlx::query_as("SELECT id, code, valid_from FROM units").fetch_all(&mut *$conn).await?;
        rows.into_iter().map(|(id, code, valid_from)| (VersionKey { code, valid_from }, id)).collect::<HashMap<_, _>>()
    }};
}

/// What a load or an application of a reorganization did.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ApplyOutcome {
    /// The same plan was applied before; nothing changed.
    pub already_applied: bool,
    /// Nothing was written: the outcome describes what would change.
    pub dry_run: bool,
    pub baseline_added: usize,
    pub units_ended: usize,
    pub units_begun: usize,
    pub lineage_edges: usize,
}

#[derive(Serialize)]
struct UnitJson<'a> {
    code: &'a str,
    name: &'a str,
    search_name: String,
    kind: &'a str,
    level: u8,
    parent_code: Option<&'a str>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    archive_note: Option<&'a str>,
}

fn units_json(units: &[UnitVersion]) -> String {
    let rows: Vec<UnitJson<'_>> = units
        .iter()
        .map(|u| UnitJson {
            code: &u.code,
            name: &u.name,
            search_name: fold(&u.name),
            kind: u.kind.as_str(),
            level: u.level,
            parent_code: u.parent_code.as_deref(),
            valid_from: u.validity.from,
            valid_to: u.validity.to,
            archive_note: u.archive_note.as_deref(),
        })
        .collect();
    serde_json::to_string(&rows).expect("plain data serializes")
}

#[derive(Serialize)]
struct LineageJson {
    predecessor_id: i64,
    successor_id: i64,
    partial: bool,
    weight: Option<f64>,
}

fn lineage_json(edges: &[Edge], ids: &HashMap<VersionKey, i64>) -> Result<String, StoreError> {
    let id = |k: &VersionKey| ids.get(k).copied().ok_or_else(|| StoreError::Corrupt(format!("no row for {}", k.code)));
    let rows = edges
        .iter()
        .map(|e| {
            Ok(LineageJson {
                predecessor_id: id(&e.from)?,
                successor_id: id(&e.to)?,
                partial: e.partial,
                weight: e.weight,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(serde_json::to_string(&rows).expect("plain data serializes"))
}

fn checksum(baseline: &[UnitVersion], reorg: &Reorganization) -> (String, String) {
    let plan = serde_json::to_string(reorg).expect("plain data serializes");
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_string(baseline).expect("plain data serializes"));
    hasher.update(&plan);
    let digest = hasher.finalize();
    (digest.iter().map(|b| format!("{b:02x}")).collect(), plan)
}

impl Db {
    fn dialect(&self) -> &'static Dialect {
        match self {
            Db::Sqlite(_) => &SQLITE,
            Db::Postgres(_) => &POSTGRES,
        }
    }

    /// Loads the whole registry, for lineage walks and mapping.
    pub async fn load_registry(&self) -> Result<Registry, StoreError> {
        Ok(with_tx!(self, |conn| load_registry!(conn).0))
    }

    /// A number that changes whenever the registry changes.
    pub async fn registry_revision(&self) -> Result<i64, StoreError> {
        let sql = "SELECT revision FROM registry_revision WHERE id = 1";
        Ok(with_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await?))
    }

    /// Adds the units of `baseline` not yet known, then applies `reorg`, in
    /// one transaction: either all of it is stored or nothing is. Applying
    /// the same baseline and plan again is a no-op; a different plan under
    /// the same key is refused.
    pub async fn apply_reorganization(
        &self,
        baseline: Vec<UnitVersion>,
        reorg: &Reorganization,
        dry_run: bool,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<ApplyOutcome, StoreError> {
        let (checksum, plan) = checksum(&baseline, reorg);
        let dialect = self.dialect();
        let key = &reorg.info.key;
        let eff = reorg.info.effective_date;
        with_tx!(self, |conn| {
            let existing: Option<String> = sqlx::query_scalar("SELECT checksum FROM reorganizations WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
            match existing {
                Some(c) if c == checksum => {
                    return Ok(ApplyOutcome {
                        already_applied: true,
                        dry_run,
                        baseline_added: 0,
                        units_ended: 0,
                        units_begun: 0,
                        lineage_edges: 0,
                    });
                }
                Some(_) => {
                    return Err(StoreError::Conflict(format!(
                        "a different reorganization with key «{key}» is already applied; revert it first"
                    )));
                }
                None => {}
            }
            progress("validating");
            let (mut registry, mut ids) = load_registry!(conn);
            let added = registry.add_baseline(baseline).map_err(StoreError::Baseline)?;
            let delta = registry.plan(reorg).map_err(StoreError::Invalid)?;
            let outcome = ApplyOutcome {
                already_applied: false,
                dry_run,
                baseline_added: added.len(),
                units_ended: delta.ended.len(),
                units_begun: delta.begun.len(),
                lineage_edges: delta.edges.len(),
            };
            if dry_run {
                return Ok(outcome);
            }
            progress("writing units");
            sqlx::query(dialect.insert_units).bind(units_json(&added)).bind(None::<i64>).execute(&mut *conn).await?;
            let rid: i64 = sqlx::query_scalar(
                "INSERT INTO reorganizations (key, name, effective_date, legal_basis, checksum, plan, applied_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(key)
            .bind(&reorg.info.name)
            .bind(eff)
            .bind(&reorg.info.legal_basis)
            .bind(&checksum)
            .bind(&plan)
            .bind(chrono::Utc::now())
            .fetch_one(&mut *conn)
            .await?;
            if !added.is_empty() {
                ids = id_map!(conn);
            }
            let ended: Vec<i64> = delta
                .ended
                .iter()
                .map(|e| ids.get(&e.key).copied().ok_or_else(|| StoreError::Corrupt(e.key.code.clone())))
                .collect::<Result<_, _>>()?;
            sqlx::query(dialect.end_units)
                .bind(eff)
                .bind(rid)
                .bind(serde_json::to_string(&ended).expect("numbers serialize"))
                .execute(&mut *conn)
                .await?;
            for e in delta.ended.iter().filter(|e| e.archive_note.is_some()) {
                sqlx::query("UPDATE units SET archive_note = $1 WHERE id = $2")
                    .bind(&e.archive_note)
                    .bind(ids[&e.key])
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(dialect.insert_units)
                .bind(units_json(&delta.begun))
                .bind(Some(rid))
                .execute(&mut *conn)
                .await?;
            progress("writing lineage");
            let ids = id_map!(conn);
            sqlx::query(dialect.insert_lineage)
                .bind(lineage_json(&delta.edges, &ids)?)
                .bind(rid)
                .execute(&mut *conn)
                .await?;
            sqlx::query(BUMP_REVISION).execute(&mut *conn).await?;
            Ok(outcome)
        })
    }

    /// Undoes a reorganization, provided nothing later builds on it.
    pub async fn revert_reorganization(&self, key: &str) -> Result<AppliedDelta, StoreError> {
        with_tx!(self, |conn| {
            let rid: Option<i64> = sqlx::query_scalar("SELECT id FROM reorganizations WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(rid) = rid else {
                return Err(StoreError::Conflict(format!("no reorganization with key «{key}» is applied")));
            };
            let (registry, _) = load_registry!(conn);
            let begun: Vec<UnitRow> =
                sqlx::query_as(&format!("SELECT {UNIT_COLUMNS} FROM units WHERE created_by = $1"))
                    .bind(rid)
                    .fetch_all(&mut *conn)
                    .await?;
            let ended: Vec<UnitRow> = sqlx::query_as(&format!("SELECT {UNIT_COLUMNS} FROM units WHERE ended_by = $1"))
                .bind(rid)
                .fetch_all(&mut *conn)
                .await?;
            let info = registry.reorganization(key).cloned().ok_or_else(|| StoreError::Corrupt(key.to_string()))?;
            let delta = AppliedDelta {
                edges: registry.edges().iter().filter(|e| e.reorganization == key).cloned().collect(),
                begun: begun.into_iter().map(UnitRow::into_unit).collect::<Result<_, _>>()?,
                ended: ended
                    .into_iter()
                    .map(|r| {
                        let u = r.into_unit()?;
                        Ok(baocao_core::reorg::EndedVersion { key: u.key(), archive_note: u.archive_note })
                    })
                    .collect::<Result<_, StoreError>>()?,
                info,
            };
            registry.check_revert(&delta)?;
            sqlx::query("DELETE FROM lineage WHERE reorganization_id = $1").bind(rid).execute(&mut *conn).await?;
            sqlx::query("DELETE FROM units WHERE created_by = $1").bind(rid).execute(&mut *conn).await?;
            sqlx::query("UPDATE units SET valid_to = NULL, ended_by = NULL, archive_note = NULL WHERE ended_by = $1")
                .bind(rid)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM reorganizations WHERE id = $1").bind(rid).execute(&mut *conn).await?;
            sqlx::query(BUMP_REVISION).execute(&mut *conn).await?;
            Ok(delta)
        })
    }

    /// Units in force on `day`, optionally only the subtree under `under`
    /// and one level, in hierarchical Vietnamese alphabetical order: each
    /// unit is followed by its own children, siblings sorted by name.
    pub async fn units_at(
        &self,
        day: NaiveDate,
        under: Option<&str>,
        level: Option<u8>,
    ) -> Result<Vec<UnitVersion>, StoreError> {
        let level = level.map(i32::from);
        let rows: Vec<UnitRow> = match under {
            Some(root) => {
                let sql = format!(
                    "WITH RECURSIVE tree (code) AS (
                        SELECT CAST($2 AS TEXT)
                        UNION ALL
                        SELECT u.code FROM units u JOIN tree t ON u.parent_code = t.code WHERE {IN_FORCE}
                    )
                    SELECT u.id, u.code, u.name, u.kind, u.level, u.parent_code, u.valid_from, u.valid_to, u.archive_note
                    FROM units u JOIN tree t ON u.code = t.code
                    WHERE {IN_FORCE} AND u.code <> $2 AND (CAST($3 AS INTEGER) IS NULL OR u.level = $3)"
                );
                with_pool!(self, |pool| sqlx::query_as(&sql).bind(day).bind(root).bind(level).fetch_all(pool).await?)
            }
            None => {
                let sql = format!(
                    "SELECT {UNIT_COLUMNS} FROM units u WHERE {IN_FORCE} AND (CAST($2 AS INTEGER) IS NULL OR u.level = $2)"
                );
                with_pool!(self, |pool| sqlx::query_as(&sql).bind(day).bind(level).fetch_all(pool).await?)
            }
        };
        let units = rows.into_iter().map(UnitRow::into_unit).collect::<Result<Vec<_>, _>>()?;
        Ok(hierarchical_order(units))
    }

    /// Every version of a code, oldest first.
    pub async fn unit_history(&self, code: &str) -> Result<Vec<UnitVersion>, StoreError> {
        let sql = format!("SELECT {UNIT_COLUMNS} FROM units WHERE code = $1 ORDER BY valid_from NULLS FIRST");
        let rows: Vec<UnitRow> = with_pool!(self, |pool| sqlx::query_as(&sql).bind(code).fetch_all(pool).await?);
        rows.into_iter().map(UnitRow::into_unit).collect()
    }

    /// Units whose name has every word of `text` as a word prefix, ignoring
    /// case and diacritics; only those in force on `at` when given.
    pub async fn search_units(
        &self,
        text: &str,
        at: Option<NaiveDate>,
        limit: usize,
    ) -> Result<Vec<UnitVersion>, StoreError> {
        let words: Vec<String> = fold(text).split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        // A word prefix is a prefix of the name or follows a space. The
        // pattern is built from folded letters only, after escaping LIKE's
        // wildcards, and bound as a parameter.
        let mut sql = format!("SELECT {UNIT_COLUMNS} FROM units u WHERE ");
        sql.push_str(if at.is_some() { IN_FORCE } else { "(CAST($1 AS TEXT) IS NULL)" });
        for i in 0..words.len() {
            sql.push_str(&format!(" AND (' ' || u.search_name) LIKE ${} ESCAPE '\\'", i + 2));
        }
        let patterns: Vec<String> = words
            .iter()
            .map(|w| format!("% {}%", w.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
            .collect();
        let rows: Vec<UnitRow> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(at);
            for p in &patterns {
                q = q.bind(p);
            }
            q.fetch_all(pool).await?
        });
        let mut units = rows.into_iter().map(UnitRow::into_unit).collect::<Result<Vec<_>, _>>()?;
        units.sort_by(unit_order);
        units.truncate(limit);
        Ok(units)
    }
}

/// Orders units depth first: each parent is followed by its children;
/// siblings in Vietnamese alphabetical order. Units whose parent is not in
/// the list are roots.
pub fn hierarchical_order(units: Vec<UnitVersion>) -> Vec<UnitVersion> {
    let codes: std::collections::HashSet<&str> = units.iter().map(|u| u.code.as_str()).collect();
    let mut children: HashMap<Option<String>, Vec<usize>> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        let parent = u.parent_code.clone().filter(|p| codes.contains(p.as_str()));
        children.entry(parent).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by(|&a, &b| unit_order(&units[a], &units[b]));
    }
    let mut order = Vec::with_capacity(units.len());
    let mut stack: Vec<usize> = children.get(&None).map(|l| l.iter().rev().copied().collect()).unwrap_or_default();
    while let Some(i) = stack.pop() {
        order.push(i);
        if let Some(kids) = children.get(&Some(units[i].code.clone())) {
            stack.extend(kids.iter().rev().copied());
        }
    }
    let mut slots: Vec<Option<UnitVersion>> = units.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}
