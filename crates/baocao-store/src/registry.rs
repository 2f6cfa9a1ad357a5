//! The registry of administrative units in the database.
//!
//! Decisions (validation, lineage, mapping) are made by
//! [`baocao_core::Registry`]; this module loads it, writes what it decided,
//! and answers the frequent read queries directly in SQL.

use std::collections::{BTreeMap, HashMap};

use baocao_core::directory::unsettled_agencies;
use baocao_core::registry::unit_order;
use baocao_core::text::fold;
use baocao_core::{
    AppliedDelta, Edge, Registry, ReorgInfo, Reorganization, UnitKind, UnitVersion, Validity, VersionKey,
};
use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::Change;
use crate::registry_writes::{Target, Writes};
use crate::sql::{Dialect, IN_FORCE, POSTGRES, SQLITE};
use crate::{Db, StoreError, WriteTx, Written, append_audit, with_conn, with_pool};

#[derive(sqlx::FromRow)]
pub(crate) struct UnitRow {
    code: String,
    name: String,
    kind: String,
    level: i32,
    parent_code: Option<String>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    archive_note: Option<String>,
    agency_kind: Option<String>,
    area_code: Option<String>,
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
            agency: self.agency_kind.map(|kind| baocao_core::unit::AgencyTraits { kind, area: self.area_code }),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EdgeRow {
    from_code: String,
    from_valid_from: Option<NaiveDate>,
    to_code: String,
    to_valid_from: Option<NaiveDate>,
    partial: bool,
    weight: Option<f64>,
    reorganization: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReorgRow {
    key: String,
    name: String,
    effective_date: NaiveDate,
    legal_basis: Option<String>,
}

const UNIT_COLUMNS: &str = "code, name, kind, level, parent_code, valid_from, valid_to, archive_note";
/// [`UNIT_COLUMNS`] and what an agency's row adds, as [`UnitRow`] reads them.
const ROW_COLUMNS: &str =
    "code, name, kind, level, parent_code, valid_from, valid_to, archive_note, agency_kind, area_code";
/// Administrative units only: the reporting agencies kept beside them in
/// `units` are not listed, searched or counted as units.
const NOT_AGENCY: &str = "u.kind <> 'cơ quan'";

pub(crate) const SELECT_ALL_UNITS: &str =
    "SELECT code, name, kind, level, parent_code, valid_from, valid_to, archive_note, agency_kind, area_code
     FROM units ORDER BY id";
pub(crate) const SELECT_EDGES: &str = "SELECT p.code AS from_code, p.valid_from AS from_valid_from,
        s.code AS to_code, s.valid_from AS to_valid_from, l.partial, l.weight, r.key AS reorganization
    FROM lineage l
    JOIN units p ON p.id = l.predecessor_id
    JOIN units s ON s.id = l.successor_id
    JOIN reorganizations r ON r.id = l.reorganization_id
    ORDER BY l.id";
pub(crate) const SELECT_REORGS: &str = "SELECT key, name, effective_date, legal_basis FROM reorganizations ORDER BY id";
pub(crate) const BUMP_REVISION: &str = "UPDATE registry_revision SET revision = revision + 1 WHERE id = 1";

/// Agency versions that ended with successors: their lineage, which the
/// registry derives (see `baocao_core::directory::agency_edges`).
pub(crate) const SELECT_SUCCESSIONS: &str = "SELECT code, valid_from, valid_to, successor_codes FROM agencies
    WHERE valid_to IS NOT NULL AND successor_codes <> '[]' ORDER BY code, valid_from";

pub(crate) type SuccessionRow = (String, Option<NaiveDate>, NaiveDate, String);

pub(crate) fn build_registry(
    units: Vec<UnitRow>,
    edges: Vec<EdgeRow>,
    reorgs: Vec<ReorgRow>,
    successions: Vec<SuccessionRow>,
) -> Result<Registry, StoreError> {
    let versions = units.into_iter().map(UnitRow::into_unit).collect::<Result<Vec<_>, _>>()?;
    let successions = successions
        .into_iter()
        .map(|(code, valid_from, ends, successors)| {
            Ok(baocao_core::directory::Succession {
                code,
                valid_from,
                ends,
                successors: crate::error::parse_json("agency successors", &successors)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let (agency_edges, agency_reorgs) = baocao_core::directory::agency_edges(&versions, &successions);
    let edges = edges
        .into_iter()
        .map(|e| Edge {
            from: VersionKey { code: e.from_code, valid_from: e.from_valid_from },
            to: VersionKey { code: e.to_code, valid_from: e.to_valid_from },
            partial: e.partial,
            weight: e.weight,
            reorganization: e.reorganization,
        })
        .chain(agency_edges)
        .collect();
    let reorgs = reorgs
        .into_iter()
        .map(|r| ReorgInfo { key: r.key, name: r.name, effective_date: r.effective_date, legal_basis: r.legal_basis })
        .chain(agency_reorgs)
        .collect();
    Ok(Registry::from_parts(versions, edges, reorgs))
}

/// Loads the whole registry within the connection's current transaction.
macro_rules! load_registry {
    ($conn:expr) => {{
        use $crate::registry::{
            EdgeRow, ReorgRow, SELECT_ALL_UNITS, SELECT_EDGES, SELECT_REORGS, SELECT_SUCCESSIONS, SuccessionRow,
            UnitRow,
        };
        let units: Vec<UnitRow> = sqlx::query_as(SELECT_ALL_UNITS).fetch_all(&mut *$conn).await?;
        let edges: Vec<EdgeRow> = sqlx::query_as(SELECT_EDGES).fetch_all(&mut *$conn).await?;
        let reorgs: Vec<ReorgRow> = sqlx::query_as(SELECT_REORGS).fetch_all(&mut *$conn).await?;
        let successions: Vec<SuccessionRow> = sqlx::query_as(SELECT_SUCCESSIONS).fetch_all(&mut *$conn).await?;
        $crate::registry::build_registry(units, edges, reorgs, successions)?
    }};
}
pub(crate) use load_registry;

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

fn checksum(baseline: &[UnitVersion], reorg: &Reorganization) -> (String, String) {
    let plan = serde_json::to_string(reorg).expect("plain data serializes");
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, baseline).expect("plain data serializes");
    hasher.update(&plan);
    (format!("{:x}", hasher.finalize()), plan)
}

/// What applied reorganization `$key` (row `$rid`) changed, read back.
macro_rules! delta_of {
    ($conn:expr, $registry:expr, $key:expr, $rid:expr) => {{
        let (conn, registry, key, rid) = (&mut *$conn, $registry, $key, $rid);
        let begun: Vec<UnitRow> = sqlx::query_as(&format!("SELECT {ROW_COLUMNS} FROM units WHERE created_by = $1"))
            .bind(rid)
            .fetch_all(&mut *conn)
            .await?;
        let ended: Vec<UnitRow> = sqlx::query_as(&format!("SELECT {ROW_COLUMNS} FROM units WHERE ended_by = $1"))
            .bind(rid)
            .fetch_all(&mut *conn)
            .await?;
        let info = registry.reorganization(key).cloned().ok_or_else(|| StoreError::Corrupt(key.to_string()))?;
        AppliedDelta {
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
        }
    }};
}

impl Db {
    pub(crate) fn dialect(&self) -> &'static Dialect {
        match self {
            Db::Sqlite(_) => &SQLITE,
            Db::Postgres(_) => &POSTGRES,
        }
    }

    /// Loads the whole registry, for lineage walks and mapping.
    pub async fn load_registry(&self) -> Result<Registry, StoreError> {
        let mut snapshot = self.begin_read().await?;
        Ok(with_conn!(snapshot, |conn| load_registry!(conn)))
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
        actor: &str,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<ApplyOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let out = Self::apply_reorganization_in(&mut tx, baseline, reorg, dry_run, actor, progress).await?;
        tx.commit().await?;
        let written = out.baseline_added + out.units_ended + out.units_begun + out.lineage_edges;
        self.after_bulk_write(Written::Tables("units, lineage"), if out.dry_run { 0 } else { written }).await;
        Ok(out)
    }

    pub(crate) async fn apply_reorganization_in(
        tx: &mut WriteTx,
        baseline: Vec<UnitVersion>,
        reorg: &Reorganization,
        dry_run: bool,
        actor: &str,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<ApplyOutcome, StoreError> {
        progress("tính mã kiểm tra (SHA-256) của phương án");
        let (checksum, plan) = checksum(&baseline, reorg);
        let key = &reorg.info.key;
        let eff = reorg.info.effective_date;
        with_conn!(tx, |conn| {
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
                        "một đợt sắp xếp khác có mã «{key}» đã được áp dụng; hãy hoàn tác đợt đó trước"
                    )));
                }
                None => {}
            }
            progress("đọc danh mục đơn vị hiện có");
            let mut registry = load_registry!(conn);
            progress("kiểm tra danh sách đơn vị");
            let added = registry.add_baseline(baseline).map_err(StoreError::Baseline)?;
            progress("kiểm tra phương án sắp xếp");
            // Agencies of units the reorganization dissolves must be settled
            // first: their problems are listed with the plan's own.
            let agencies = crate::agency_rows::all_agencies!(conn);
            let delta = registry
                .plan_checked(reorg, |delta| unsettled_agencies(&agencies, delta))
                .map_err(StoreError::Invalid)?;
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
            progress("ghi đơn vị và quan hệ kế thừa");
            Target::write(&mut *conn, &Writes::new(&added, &delta, rid)).await?;
            sqlx::query(BUMP_REVISION).execute(&mut *conn).await?;
            let change = Change {
                at: chrono::Utc::now(),
                actor,
                action: "reorganization.apply",
                object: format!("reorganization {key}"),
                before: None,
                after: Some(serde_json::json!({ "name": reorg.info.name, "effective_date": eff,
                    "legal_basis": reorg.info.legal_basis, "checksum": checksum, "baseline_added": added.len(),
                    "units_ended": delta.ended.len(), "units_begun": delta.begun.len(), "lineage_edges": delta.edges.len() })),
            };
            append_audit!(conn, &change);
            progress("hoàn tất giao dịch");
            Ok(outcome)
        })
    }

    /// Undoes a reorganization, provided nothing later builds on it.
    pub async fn revert_reorganization(&self, actor: &str, key: &str) -> Result<AppliedDelta, StoreError> {
        let mut tx = self.begin_write().await?;
        let out = Self::revert_reorganization_in(&mut tx, actor, key).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn revert_reorganization_in(
        tx: &mut WriteTx,
        actor: &str,
        key: &str,
    ) -> Result<AppliedDelta, StoreError> {
        with_conn!(tx, |conn| {
            let rid: Option<i64> = sqlx::query_scalar("SELECT id FROM reorganizations WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(rid) = rid else {
                return Err(StoreError::Conflict(format!("Chưa áp dụng đợt sắp xếp «{key}».")));
            };
            let registry = load_registry!(conn);
            let delta = delta_of!(conn, &registry, key, rid);
            registry.check_revert(&delta)?;
            sqlx::query("DELETE FROM lineage WHERE reorganization_id = $1").bind(rid).execute(&mut *conn).await?;
            sqlx::query("DELETE FROM units WHERE created_by = $1").bind(rid).execute(&mut *conn).await?;
            sqlx::query("UPDATE units SET valid_to = NULL, ended_by = NULL, archive_note = NULL WHERE ended_by = $1")
                .bind(rid)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM reorganizations WHERE id = $1").bind(rid).execute(&mut *conn).await?;
            sqlx::query(BUMP_REVISION).execute(&mut *conn).await?;
            let change = Change {
                at: chrono::Utc::now(),
                actor,
                action: "reorganization.revert",
                object: format!("reorganization {key}"),
                before: Some(serde_json::json!({ "units_ended": delta.ended.len(), "units_begun": delta.begun.len(),
                    "lineage_edges": delta.edges.len() })),
                after: None,
            };
            append_audit!(conn, &change);
            Ok(delta)
        })
    }

    /// What an applied reorganization changed: versions ended and begun,
    /// lineage edges.
    pub async fn applied_delta(&self, key: &str) -> Result<AppliedDelta, StoreError> {
        let mut snapshot = self.begin_read().await?;
        with_conn!(snapshot, |conn| {
            let rid: Option<i64> = sqlx::query_scalar("SELECT id FROM reorganizations WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
            let rid = rid.ok_or_else(|| StoreError::NotFound(format!("Chưa áp dụng đợt sắp xếp «{key}».")))?;
            let registry = load_registry!(conn);
            Ok(delta_of!(conn, &registry, key, rid))
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
        let dialect = self.dialect();
        let units_as_json = dialect.units_as_json;
        let json: String = match under {
            Some(root) => {
                // The tree carries its rows, so nothing joins back to the
                // whole table at the end.
                let step = (dialect.subtree_step)();
                let sql = units_as_json(&format!(
                    "WITH RECURSIVE tree (code, name, kind, level, parent_code, valid_from, valid_to, archive_note) AS (
                        SELECT {UNIT_COLUMNS} FROM units u WHERE u.parent_code = $2 AND {IN_FORCE} AND {NOT_AGENCY}
                        UNION ALL
                        {step}
                    )
                    SELECT {UNIT_COLUMNS} FROM tree WHERE CAST($3 AS INTEGER) IS NULL OR level = $3"
                ));
                with_pool!(self, |pool| sqlx::query_scalar(&sql)
                    .bind(day)
                    .bind(root)
                    .bind(level)
                    .fetch_one(pool)
                    .await?)
            }
            None => {
                let sql = units_as_json(&format!(
                    "SELECT {UNIT_COLUMNS} FROM units u WHERE {IN_FORCE} AND {NOT_AGENCY} AND (CAST($2 AS INTEGER) IS NULL OR u.level = $2)"
                ));
                with_pool!(self, |pool| sqlx::query_scalar(&sql).bind(day).bind(level).fetch_one(pool).await?)
            }
        };
        let units: Vec<UnitVersion> =
            serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("unit listing: {e}")))?;
        Ok(hierarchical_order(units))
    }

    /// How many units of each level are in force on `day`.
    pub async fn count_units_by_level(&self, day: NaiveDate) -> Result<BTreeMap<u8, usize>, StoreError> {
        let sql = format!("SELECT u.level, COUNT(*) FROM units u WHERE {IN_FORCE} AND {NOT_AGENCY} GROUP BY u.level");
        let rows: Vec<(i32, i64)> = with_pool!(self, |pool| sqlx::query_as(&sql).bind(day).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(level, n)| (u8::try_from(level).unwrap_or(u8::MAX), usize::try_from(n).unwrap_or(usize::MAX)))
            .collect())
    }

    /// Whether any unit was ever loaded: a database without units has not
    /// been set up (or is not the one meant).
    pub async fn has_units(&self) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM units LIMIT 1) AS any_unit";
        let n: i64 = with_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await?);
        Ok(n > 0)
    }

    /// How many lineage edges a reorganization made.
    pub async fn count_lineage(&self, key: &str) -> Result<usize, StoreError> {
        let sql =
            "SELECT COUNT(*) FROM lineage l JOIN reorganizations r ON r.id = l.reorganization_id WHERE r.key = $1";
        let n: i64 = with_pool!(self, |pool| sqlx::query_scalar(sql).bind(key).fetch_one(pool).await?);
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Every version of a code, oldest first.
    pub async fn unit_history(&self, code: &str) -> Result<Vec<UnitVersion>, StoreError> {
        let sql = format!("SELECT {ROW_COLUMNS} FROM units WHERE code = $1 ORDER BY valid_from NULLS FIRST");
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
        let mut sql = format!("SELECT {ROW_COLUMNS} FROM units u WHERE {NOT_AGENCY} AND ");
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
