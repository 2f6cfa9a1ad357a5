//! The temporal registry of administrative units, held in memory.
//!
//! The store loads the rows it needs into a [`Registry`], lets it decide
//! (validation, application of reorganizations, lineage walks, mapping) and
//! writes back the [`AppliedDelta`]. Keeping the decisions here keeps them
//! identical on every storage backend and testable without a database.
//!
//! This module answers questions of the registry (what is in force, under
//! what, lineage, mapping); `changes` changes it (baselines, reorganizations
//! planned, applied and reverted).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::date::Validity;
use crate::reorg::{AppliedDelta, Edge, EndedVersion, Plan, ReorgError, ReorgInfo, Reorganization};
use crate::text::compare_vi;
use crate::unit::{UnitVersion, VersionKey};

mod changes;

/// Tolerance for weights that must add up to one.
const WEIGHT_EPSILON: f64 = 1e-6;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RegistryError {
    #[error("Không có đơn vị mã {0}.")]
    UnknownCode(String),
    #[error("Đơn vị {code} không có hiệu lực vào ngày {}.", crate::date::format_vn(*day))]
    NotInForce { code: String, day: NaiveDate },
    #[error("danh sách gốc không hợp lệ: {0}")]
    Baseline(String),
    #[error("không hoàn tác được đợt sắp xếp {key}: {reason}")]
    Revert { key: String, reason: String },
}

/// A unit on the other side of a lineage edge.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineageEntry {
    #[serde(flatten)]
    pub unit: UnitVersion,
    pub partial: bool,
    pub weight: Option<f64>,
    pub reorganization: ReorgInfo,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lineage {
    pub unit: UnitVersion,
    pub predecessors: Vec<LineageEntry>,
    pub successors: Vec<LineageEntry>,
}

/// Where (a share of) a unit lies in the structure of another day.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MapEntry {
    #[serde(flatten)]
    pub unit: UnitVersion,
    /// Share of the older unit of the pair that corresponds; `None` when any
    /// step on the way has an unknown share.
    pub weight: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Registry {
    versions: Vec<UnitVersion>,
    edges: Vec<Edge>,
    reorgs: BTreeMap<String, ReorgInfo>,
    by_key: HashMap<VersionKey, usize>,
    by_code: HashMap<String, Vec<usize>>,
    /// Versions by their parent's code, whatever their validity.
    by_parent: HashMap<String, Vec<usize>>,
    out_edges: HashMap<VersionKey, Vec<usize>>,
    in_edges: HashMap<VersionKey, Vec<usize>>,
    /// Every day on which some version begins or ends, in order.
    boundaries: Vec<NaiveDate>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a registry from stored rows, trusting that they were
    /// validated when written.
    pub fn from_parts(versions: Vec<UnitVersion>, edges: Vec<Edge>, reorgs: Vec<ReorgInfo>) -> Self {
        let mut registry = Registry {
            versions,
            edges,
            reorgs: reorgs.into_iter().map(|r| (r.key.clone(), r)).collect(),
            ..Default::default()
        };
        registry.reindex();
        registry
    }

    fn reindex(&mut self) {
        self.by_key.clear();
        self.by_code.clear();
        self.by_parent.clear();
        self.out_edges.clear();
        self.in_edges.clear();
        for (i, v) in self.versions.iter().enumerate() {
            self.by_key.insert(v.key(), i);
            self.by_code.entry(v.code.clone()).or_default().push(i);
            if let Some(p) = &v.parent_code {
                self.by_parent.entry(p.clone()).or_default().push(i);
            }
        }
        let versions = &self.versions;
        for list in self.by_code.values_mut() {
            list.sort_by_key(|&i| versions[i].validity.from);
        }
        for (i, e) in self.edges.iter().enumerate() {
            self.out_edges.entry(e.from.clone()).or_default().push(i);
            self.in_edges.entry(e.to.clone()).or_default().push(i);
        }
        self.refresh_boundaries();
    }

    /// Recomputes the days on which versions begin or end, after validity changes.
    fn refresh_boundaries(&mut self) {
        self.boundaries = self.versions.iter().flat_map(|v| [v.validity.from, v.validity.to]).flatten().collect();
        self.boundaries.sort();
        self.boundaries.dedup();
    }

    /// Which stretch of unchanged structure `day` falls in: two days with
    /// the same epoch have exactly the same versions in force, so whatever
    /// depends only on the structure of a day can be kept per epoch.
    pub fn epoch(&self, day: NaiveDate) -> usize {
        self.boundaries.partition_point(|b| *b <= day)
    }

    pub fn versions(&self) -> &[UnitVersion] {
        &self.versions
    }

    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    pub fn reorganization(&self, key: &str) -> Option<&ReorgInfo> {
        self.reorgs.get(key)
    }

    pub fn version(&self, key: &VersionKey) -> Option<&UnitVersion> {
        self.by_key.get(key).map(|&i| &self.versions[i])
    }

    /// All versions of a code, oldest first.
    pub fn history(&self, code: &str) -> impl Iterator<Item = &UnitVersion> {
        self.by_code.get(code).into_iter().flatten().map(|&i| &self.versions[i])
    }

    pub fn in_force(&self, code: &str, day: NaiveDate) -> Option<&UnitVersion> {
        self.history(code).find(|v| v.validity.contains(day))
    }

    fn require(&self, code: &str, day: NaiveDate) -> Result<&UnitVersion, RegistryError> {
        if !self.by_code.contains_key(code) {
            return Err(RegistryError::UnknownCode(code.to_string()));
        }
        self.in_force(code, day).ok_or_else(|| RegistryError::NotInForce { code: code.to_string(), day })
    }

    /// The chain of parent codes of `unit` on `day`, nearest first.
    pub fn ancestors(&self, unit: &UnitVersion, day: NaiveDate) -> Vec<String> {
        let mut out = Vec::new();
        let mut next = unit.parent_code.clone();
        while let Some(code) = next {
            if out.contains(&code) {
                break;
            }
            next = self.in_force(&code, day).and_then(|p| p.parent_code.clone());
            out.push(code);
        }
        out
    }

    /// True when `unit` lies (strictly) under the unit `root` on `day`.
    /// Access checks ask it of every unit a page lists: it walks the
    /// parents without collecting them. A chain cannot be longer than
    /// there are codes, which also ends a cycle stored by mistake.
    pub fn is_under(&self, unit: &UnitVersion, root: &str, day: NaiveDate) -> bool {
        let mut next = unit.parent_code.as_deref();
        for _ in 0..self.by_code.len().max(1) {
            let Some(code) = next else { return false };
            if code == root {
                return true;
            }
            next = self.in_force(code, day).and_then(|p| p.parent_code.as_deref());
        }
        false
    }

    /// Whether `body` (a unit, or a reporting agency, in force on `day`) is
    /// `root` or within it: a unit of its subtree, an agency of its tree, or
    /// an agency that serves `root` or a unit of its subtree.
    pub fn within(&self, body: &UnitVersion, root: &str, day: NaiveDate) -> bool {
        body.code == root
            || self.is_under(body, root, day)
            || body.agency.as_ref().and_then(|a| a.area.as_deref()).is_some_and(|area| {
                area == root || self.in_force(area, day).is_some_and(|unit| self.is_under(unit, root, day))
            })
    }

    /// The units that stood on `day` for the unit `code` as it stands in its
    /// latest version: the code itself when in force that day, else where its
    /// latest version maps to in that day's structure. This is how a regime
    /// or a grant naming today's province reaches its predecessors' units in
    /// earlier periods.
    pub fn stand_ins(&self, code: &str, day: NaiveDate) -> Vec<String> {
        let Some(latest) = self.history(code).last() else { return Vec::new() };
        if latest.validity.contains(day) {
            return vec![code.to_string()];
        }
        let from = latest.validity.from.or(latest.validity.to.and_then(|t| t.pred_opt())).unwrap_or(day);
        self.map(code, from, day).map(|m| m.into_iter().map(|e| e.unit.code).collect()).unwrap_or_default()
    }

    /// The units (not agencies) in force on `day`: `root` and, with
    /// `descendants`, every unit under it; every unit of the day when `root`
    /// is absent. By level, then in Vietnamese order.
    pub fn units_of_area(
        &self,
        root: Option<&str>,
        descendants: bool,
        day: NaiveDate,
    ) -> Result<Vec<&UnitVersion>, RegistryError> {
        let mut units: Vec<&UnitVersion> = match root {
            Some(code) if !descendants => vec![self.require(code, day)?],
            Some(code) => {
                let root = self.require(code, day)?;
                let under = self.versions.iter().filter(|v| v.agency.is_none() && v.validity.contains(day));
                std::iter::once(root).chain(under.filter(|v| self.is_under(v, code, day))).collect()
            }
            None => self.versions.iter().filter(|v| v.agency.is_none() && v.validity.contains(day)).collect(),
        };
        units.sort_by(|a, b| a.level.cmp(&b.level).then_with(|| unit_order(a, b)));
        Ok(units)
    }

    /// The lowest units at or under `code` on `day`: the unit itself when it
    /// has no children that day, else the descendants that have none; in no
    /// particular order (composition does not need one; sort to show).
    pub fn leaves_under(&self, code: &str, day: NaiveDate) -> Result<Vec<UnitVersion>, RegistryError> {
        let root = self.require(code, day)?;
        let mut leaves = Vec::new();
        let mut stack = vec![root];
        while let Some(unit) = stack.pop() {
            let before = stack.len();
            let kids = self.by_parent.get(&unit.code).into_iter().flatten().map(|&i| &self.versions[i]);
            stack.extend(kids.filter(|v| v.validity.contains(day)));
            if stack.len() == before {
                leaves.push(unit.clone());
            }
        }
        Ok(leaves)
    }

    /// Direct predecessors and successors of the version in force on `day`.
    ///
    /// When a unit and one of its own descendants are both listed (a former
    /// district and its communes), only the finer units are kept: the
    /// district's share is already told by its communes.
    pub fn lineage(&self, code: &str, day: NaiveDate) -> Result<Lineage, RegistryError> {
        let unit = self.require(code, day)?;
        let key = unit.key();
        let entries = |index: &HashMap<VersionKey, Vec<usize>>, pick: fn(&Edge) -> &VersionKey| {
            let mut list: Vec<LineageEntry> = index
                .get(&key)
                .into_iter()
                .flatten()
                .filter_map(|&i| {
                    let e = &self.edges[i];
                    Some(LineageEntry {
                        unit: self.version(pick(e))?.clone(),
                        partial: e.partial,
                        weight: e.weight,
                        reorganization: self.reorgs.get(&e.reorganization)?.clone(),
                    })
                })
                .collect();
            self.keep_finest(&mut list, |x| &x.unit);
            list.sort_by(|a, b| unit_order(&a.unit, &b.unit));
            list
        };
        Ok(Lineage {
            unit: unit.clone(),
            predecessors: entries(&self.in_edges, |e| &e.from),
            successors: entries(&self.out_edges, |e| &e.to),
        })
    }

    /// Drops entries whose unit is an ancestor of another entry's unit.
    fn keep_finest<T>(&self, list: &mut Vec<T>, unit: impl Fn(&T) -> &UnitVersion) {
        let ancestors: HashSet<String> = list.iter().flat_map(|x| self.ancestors(unit(x), last_day(unit(x)))).collect();
        list.retain(|x| !ancestors.contains(&unit(x).code));
    }

    /// Where the unit `code` of day `from` lies in the structure of day `to`.
    ///
    /// Weights multiply along the way and add up across paths; a step with an
    /// unknown share makes the result unknown (`None`) rather than a guess.
    /// Units that ended with an archive decision and no successor drop out.
    pub fn map(&self, code: &str, from: NaiveDate, to: NaiveDate) -> Result<Vec<MapEntry>, RegistryError> {
        let start = self.require(code, from)?;
        let forward = to >= from;
        let mut result: BTreeMap<VersionKey, Option<f64>> = BTreeMap::new();
        let mut stack = vec![(start.key(), Some(1.0))];
        let mut steps = 0usize;
        while let Some((key, weight)) = stack.pop() {
            steps += 1;
            if steps > 1_000_000 {
                break; // a malformed graph cannot hang a request
            }
            let v = self.version(&key).expect("edges point at known versions");
            if v.validity.contains(to) {
                let slot = result.entry(key).or_insert(Some(0.0));
                *slot = slot.zip(weight).map(|(a, b)| a + b);
                continue;
            }
            let (index, next): (_, fn(&Edge) -> &VersionKey) =
                if forward { (&self.out_edges, |e| &e.to) } else { (&self.in_edges, |e| &e.from) };
            for &i in index.get(&key).into_iter().flatten() {
                let e = &self.edges[i];
                let w = weight.zip(e.weight).map(|(a, b)| a * b);
                stack.push((next(e).clone(), w));
            }
        }
        let mut list: Vec<MapEntry> = result
            .into_iter()
            .map(|(key, weight)| MapEntry { unit: self.version(&key).expect("known").clone(), weight })
            .collect();
        self.keep_finest(&mut list, |x| &x.unit);
        list.sort_by(|a, b| unit_order(&a.unit, &b.unit));
        Ok(list)
    }

    /// Checks the invariants every stored registry must satisfy; returns a
    /// description of each violation.
    pub fn check_invariants(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (code, list) in &self.by_code {
            for pair in list.windows(2) {
                let (a, b) = (&self.versions[pair[0]], &self.versions[pair[1]]);
                if a.validity.overlaps(&b.validity) {
                    problems.push(format!("{code}: validity intervals overlap"));
                }
            }
            for &i in list {
                if self.versions[i].validity.is_empty() {
                    problems.push(format!("{code}: empty validity interval"));
                }
            }
        }
        let mut shares: BTreeMap<&VersionKey, (f64, bool)> = BTreeMap::new();
        for e in &self.edges {
            match (self.version(&e.from), self.version(&e.to)) {
                // An edge joins the day a version ends to a version in force that day.
                (Some(a), Some(b)) if a.validity.to.is_some_and(|t| b.validity.contains(t)) => {}
                _ => problems.push(format!(
                    "quan hệ kế thừa {} → {} không nối ngày chấm dứt với ngày bắt đầu",
                    e.from.code, e.to.code
                )),
            }
            let slot = shares.entry(&e.from).or_insert((0.0, true));
            slot.0 += e.weight.unwrap_or(0.0);
            slot.1 &= e.weight.is_some();
        }
        for (key, (sum, all_known)) in shares {
            if sum > 1.0 + WEIGHT_EPSILON || (all_known && (sum - 1.0).abs() > WEIGHT_EPSILON) {
                problems.push(format!("{}: shares towards successors add up to {sum}", key.code));
            }
        }
        problems
    }
}

/// A day the version is in force: its last one, or its first when open.
fn last_day(v: &UnitVersion) -> NaiveDate {
    match (v.validity.to, v.validity.from) {
        (Some(t), _) => t.pred_opt().unwrap_or(t),
        (None, Some(f)) => f,
        (None, None) => NaiveDate::MIN,
    }
}

/// Vietnamese alphabetical order of units: by name without the kind word,
/// then by full name, then by code so that the order is total.
pub fn unit_order(a: &UnitVersion, b: &UnitVersion) -> std::cmp::Ordering {
    compare_vi(a.short_name(), b.short_name())
        .then_with(|| compare_vi(&a.name, &b.name))
        .then_with(|| a.code.cmp(&b.code))
        .then_with(|| a.validity.from.cmp(&b.validity.from))
}
