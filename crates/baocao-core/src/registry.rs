//! The temporal registry of administrative units, held in memory.
//!
//! The store loads the rows it needs into a [`Registry`], lets it decide
//! (validation, application of reorganizations, lineage walks, mapping) and
//! writes back the [`AppliedDelta`]. Keeping the decisions here keeps them
//! identical on every storage backend and testable without a database.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::date::Validity;
use crate::reorg::{AppliedDelta, Edge, EndedVersion, Plan, ReorgError, ReorgInfo, Reorganization};
use crate::text::compare_vi;
use crate::unit::{UnitVersion, VersionKey};

/// Tolerance for weights that must add up to one.
const WEIGHT_EPSILON: f64 = 1e-6;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RegistryError {
    #[error("Không có đơn vị mã {0}.")]
    UnknownCode(String),
    #[error("Đơn vị {code} không có hiệu lực vào ngày {}.", crate::date::format_vn(*day))]
    NotInForce { code: String, day: NaiveDate },
    #[error("invalid baseline: {0}")]
    Baseline(String),
    #[error("cannot revert {key}: {reason}")]
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
    pub fn is_under(&self, unit: &UnitVersion, root: &str, day: NaiveDate) -> bool {
        self.ancestors(unit, day).iter().any(|a| a == root)
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

    /// Adds versions that are not yet known (the baseline lists), skipping
    /// exact duplicates so that loading twice changes nothing. Returns the
    /// versions actually added.
    pub fn add_baseline(&mut self, versions: Vec<UnitVersion>) -> Result<Vec<UnitVersion>, Vec<RegistryError>> {
        let mut errors = Vec::new();
        let mut fresh = Vec::new();
        let mut seen = HashSet::new();
        for v in versions {
            if !seen.insert(v.key()) {
                errors.push(RegistryError::Baseline(format!("{}: listed twice", v.code)));
                continue;
            }
            match self.version(&v.key()) {
                Some(existing) if existing == &v => continue,
                Some(_) => errors.push(RegistryError::Baseline(format!(
                    "{}: differs from the version already in the registry",
                    v.code
                ))),
                None => {
                    if self.history(&v.code).any(|o| o.validity.overlaps(&v.validity)) {
                        errors.push(RegistryError::Baseline(format!(
                            "{}: overlaps a version already in the registry",
                            v.code
                        )));
                    }
                    fresh.push(v);
                }
            }
        }
        let codes: HashMap<&str, &UnitVersion> = fresh.iter().map(|v| (v.code.as_str(), v)).collect();
        for v in &fresh {
            if let Some(parent) = &v.parent_code {
                let level_ok = match codes.get(parent.as_str()) {
                    Some(p) => p.level + 1 == v.level,
                    None => self.history(parent).any(|p| p.level + 1 == v.level),
                };
                if !codes.contains_key(parent.as_str()) && !self.by_code.contains_key(parent) {
                    errors.push(RegistryError::Baseline(format!("{}: unknown parent {parent}", v.code)));
                } else if !level_ok {
                    errors.push(RegistryError::Baseline(format!(
                        "{}: level {} does not sit directly under parent {parent}",
                        v.code, v.level
                    )));
                }
            } else if v.level != 1 {
                errors.push(RegistryError::Baseline(format!("{}: level {} needs a parent", v.code, v.level)));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.versions.extend(fresh.iter().cloned());
        self.reindex();
        Ok(fresh)
    }

    /// Validates a reorganization against the registry and applies it.
    /// Every problem is reported, not only the first.
    pub fn apply(&mut self, reorg: &Reorganization) -> Result<AppliedDelta, Vec<ReorgError>> {
        let delta = self.plan(reorg)?;
        self.apply_delta(&delta);
        Ok(delta)
    }

    /// Computes what `reorg` would change, without changing anything.
    pub fn plan(&self, reorg: &Reorganization) -> Result<AppliedDelta, Vec<ReorgError>> {
        self.plan_checked(reorg, |_| Vec::new())
    }

    /// [`Registry::plan`] with further checks of what would change (the
    /// agencies of dissolved units, say), whose problems are listed with
    /// the plan's own, all at once.
    pub fn plan_checked(
        &self,
        reorg: &Reorganization,
        further: impl FnOnce(&AppliedDelta) -> Vec<ReorgError>,
    ) -> Result<AppliedDelta, Vec<ReorgError>> {
        let info = &reorg.info;
        let eff = info.effective_date;
        let mut plan = Plan::compile(reorg);
        let mut errors = std::mem::take(&mut plan.errors);
        let err = |errors: &mut Vec<ReorgError>, code: &str, message: String| {
            errors.push(ReorgError { code: code.to_string(), message })
        };
        if self.reorgs.contains_key(&info.key) {
            err(&mut errors, &info.key, "a reorganization with this key is already applied".into());
        }
        let Some(eve) = eff.checked_sub_days(Days::new(1)) else {
            err(&mut errors, &info.key, "effective date out of range".into());
            return Err(errors);
        };

        // Continuing codes with changed attributes: end and begin again.
        for (code, m) in &plan.modifications {
            let Some(current) = self.in_force(code, eve) else {
                err(&mut errors, code, format!("is not in force on {eve}, so it cannot be changed"));
                continue;
            };
            if plan.begins.contains_key(code) {
                err(&mut errors, code, "is both changed and created anew".into());
                continue;
            }
            let unit = crate::reorg::NewUnit {
                code: code.clone(),
                name: m.name.clone().unwrap_or_else(|| current.name.clone()),
                kind: m.kind.unwrap_or(current.kind),
                level: None,
                parent_code: m.parent_code.clone().or_else(|| current.parent_code.clone()),
            };
            plan.ends.entry(code.clone()).or_default();
            plan.begins.insert(code.clone(), unit);
            if !plan.edges.iter().any(|e| &e.from == code && &e.to == code) {
                plan.edges.push(crate::reorg::PlanEdge {
                    from: code.clone(),
                    to: code.clone(),
                    partial: false,
                    weight: Some(1.0),
                });
            }
        }

        // Abolished levels: every unit of the level ends, unless ended already.
        for level in &plan.abolished_levels {
            for v in self.versions.iter().filter(|v| v.level == *level && v.validity.contains(eve)) {
                plan.ends.entry(v.code.clone()).or_default();
            }
        }

        // Ended versions must be in force on the eve.
        let mut ended: Vec<EndedVersion> = Vec::new();
        let mut ended_units: HashMap<&str, &UnitVersion> = HashMap::new();
        for (code, archive) in &plan.ends {
            match self.in_force(code, eve) {
                None => err(&mut errors, code, format!("is not in force on {eve}, so it cannot end on {eff}")),
                Some(v) if v.validity.to.is_some() => err(
                    &mut errors,
                    code,
                    format!(
                        "already ends on {}; only a version still in force can end",
                        v.validity.to.expect("checked")
                    ),
                ),
                Some(v) => {
                    ended_units.insert(code.as_str(), v);
                    ended.push(EndedVersion { key: v.key(), archive_note: archive.clone() });
                }
            }
        }

        // Which code is in force on the effective day once the plan applies.
        let continuing = |code: &str| -> Option<&UnitVersion> {
            self.in_force(code, eff).filter(|_| !ended_units.contains_key(code))
        };

        // Begun versions: no overlap, a parent in force, a consistent level.
        let mut levels: HashMap<&str, u8> = HashMap::new();
        let mut pending: Vec<&str> = plan.begins.keys().map(String::as_str).collect();
        // Levels derive from parents that may begin in the same plan, so
        // resolve parents first (bounded: the hierarchy is shallow).
        for _ in 0..=plan.begins.len() {
            let before = pending.len();
            pending.retain(|code| {
                let unit = &plan.begins[*code];
                let parent_level = match &unit.parent_code {
                    None => Some(0),
                    Some(p) if plan.begins.contains_key(p) => levels.get(p.as_str()).copied(),
                    Some(p) => continuing(p).map(|v| v.level).or(Some(u8::MAX)),
                };
                match parent_level {
                    Some(l) => {
                        levels.insert(code, l.saturating_add(1));
                        false
                    }
                    None => true,
                }
            });
            if pending.len() == before {
                break;
            }
        }
        for code in pending {
            err(&mut errors, code, "its parent chain forms a cycle".into());
        }
        let mut begun = Vec::new();
        for (code, unit) in &plan.begins {
            if let Some(v) =
                self.history(code).find(|v| !ended_units.contains_key(code.as_str()) && v.validity.contains(eff))
            {
                err(&mut errors, code, format!("overlapping validity: «{}» is already in force on {eff}", v.name));
            } else if let Some(v) = self.history(code).find(|v| v.validity.from.is_some_and(|f| f >= eff)) {
                err(
                    &mut errors,
                    code,
                    format!(
                        "overlapping validity: a later version «{}» begins on {}",
                        v.name,
                        v.validity.from.expect("checked")
                    ),
                );
            }
            match (&unit.parent_code, unit.kind.is_province_level()) {
                (None, false) => err(&mut errors, code, format!("a {} needs a parent unit", unit.kind)),
                (Some(p), true) => err(&mut errors, code, format!("a {} cannot sit under {p}", unit.kind)),
                (Some(p), false) if !plan.begins.contains_key(p) && continuing(p).is_none() => {
                    err(&mut errors, code, format!("parent {p} is not in force on {eff}"))
                }
                _ => {}
            }
            let level = levels.get(code.as_str()).copied().unwrap_or(1);
            if level == u8::MAX {
                continue;
            }
            if let Some(stated) = unit.level.filter(|l| *l != level) {
                err(&mut errors, code, format!("level {stated} does not match its parent (expected {level})"));
            }
            begun.push(UnitVersion {
                code: code.clone(),
                name: unit.name.clone(),
                kind: unit.kind,
                level,
                parent_code: unit.parent_code.clone(),
                validity: Validity::new(Some(eff), None),
                archive_note: None,
            });
        }

        // Units that continue must not be left under a parent that ends.
        let dissolved: HashSet<&str> = ended_units.keys().copied().filter(|c| !plan.begins.contains_key(*c)).collect();
        for v in self.versions.iter().filter(|v| v.validity.contains(eve) && v.validity.contains(eff)) {
            if ended_units.contains_key(v.code.as_str()) {
                continue;
            }
            if let Some(p) = v.parent_code.as_deref().filter(|p| dissolved.contains(p)) {
                err(&mut errors, &v.code, format!("would be left under {p}, which ends on {eff}"));
            }
        }

        // Edges: explicit ones, then those derived for abolished levels.
        let mut edges: Vec<Edge> = Vec::new();
        let key_after = |code: &str| -> Option<VersionKey> {
            if plan.begins.contains_key(code) {
                Some(VersionKey { code: code.to_string(), valid_from: Some(eff) })
            } else {
                continuing(code).map(UnitVersion::key)
            }
        };
        for e in &plan.edges {
            let Some(from) = ended_units.get(e.from.as_str()) else {
                // Reported above when the code is not in force at all.
                if self.in_force(&e.from, eve).is_some() {
                    err(&mut errors, &e.from, "is a predecessor but does not end".into());
                }
                continue;
            };
            let Some(to) = key_after(&e.to) else {
                err(&mut errors, &e.to, format!("successor of {} is not in force on {eff}", e.from));
                continue;
            };
            if let Some(w) = e.weight.filter(|w| !(*w > 0.0 && *w <= 1.0 + WEIGHT_EPSILON)) {
                err(&mut errors, &e.from, format!("weight {w} towards {} is not in (0, 1]", e.to));
            }
            edges.push(Edge {
                from: from.key(),
                to,
                partial: e.partial,
                weight: e.weight,
                reorganization: info.key.clone(),
            });
        }
        let explicit: HashSet<&str> = edges.iter().map(|e| e.from.code.as_str()).collect();
        let mut abolished: Vec<&UnitVersion> = ended_units
            .iter()
            .filter(|(code, v)| !explicit.contains(**code) && plan.abolished_levels.contains(&v.level))
            .map(|(_, v)| *v)
            .collect();
        abolished.sort_by(|a, b| a.code.cmp(&b.code));
        let derived =
            if abolished.is_empty() { Vec::new() } else { self.derive_from_children(&abolished, eve, &edges) };
        edges.extend(derived);

        // Dissolved units need a successor or an archive decision.
        let with_successor: HashSet<&str> = edges.iter().map(|e| e.from.code.as_str()).collect();
        for code in &dissolved {
            let archived = plan.ends.get(*code).is_some_and(Option::is_some);
            if !with_successor.contains(code) && !archived {
                err(&mut errors, code, format!("ends on {eff} with no successor and no archive decision"));
            }
        }

        // Shares leaving one predecessor.
        let mut outgoing: BTreeMap<&str, Vec<&Edge>> = BTreeMap::new();
        for e in &edges {
            outgoing.entry(e.from.code.as_str()).or_default().push(e);
        }
        for (code, list) in &outgoing {
            if list.len() > 1 && list.iter().any(|e| !e.partial) {
                err(&mut errors, code, "goes whole to one successor but also to others".into());
            }
            let known: f64 = list.iter().filter_map(|e| e.weight).sum();
            let all_known = list.iter().all(|e| e.weight.is_some());
            if (all_known && (known - 1.0).abs() > WEIGHT_EPSILON) || known > 1.0 + WEIGHT_EPSILON {
                err(&mut errors, code, format!("shares towards its successors add up to {known}, not 1"));
            }
        }

        let delta = AppliedDelta { info: info.clone(), ended, begun, edges };
        errors.extend(further(&delta));
        if errors.is_empty() {
            Ok(delta)
        } else {
            errors.sort();
            errors.dedup();
            Err(errors)
        }
    }

    /// Successors of units of an abolished level: wherever their children
    /// went. Whole when all children went whole to one single unit.
    fn derive_from_children(&self, units: &[&UnitVersion], eve: NaiveDate, edges: &[Edge]) -> Vec<Edge> {
        let wanted: HashSet<&str> = units.iter().map(|u| u.code.as_str()).collect();
        let mut parent_of: HashMap<&str, &str> = HashMap::new();
        for v in self.versions.iter().filter(|v| v.validity.contains(eve)) {
            if let Some(p) = v.parent_code.as_deref().filter(|p| wanted.contains(p)) {
                parent_of.insert(v.code.as_str(), p);
            }
        }
        // Per abolished unit: each target, whether any share of it is partial.
        let mut targets: HashMap<&str, BTreeMap<&VersionKey, (bool, &str)>> = HashMap::new();
        for e in edges {
            if let Some(parent) = parent_of.get(e.from.code.as_str()) {
                let entry = targets.entry(parent).or_default().entry(&e.to).or_insert((false, &e.reorganization));
                entry.0 |= e.partial;
            }
        }
        let mut out = Vec::new();
        for unit in units {
            let Some(list) = targets.get(unit.code.as_str()) else { continue };
            let whole = list.len() == 1 && list.values().all(|(partial, _)| !partial);
            out.extend(list.iter().map(|(to, (_, reorganization))| Edge {
                from: unit.key(),
                to: (*to).clone(),
                partial: !whole,
                weight: whole.then_some(1.0),
                reorganization: reorganization.to_string(),
            }));
        }
        out
    }

    fn apply_delta(&mut self, delta: &AppliedDelta) {
        let eff = delta.info.effective_date;
        for e in &delta.ended {
            let i = self.by_key[&e.key];
            self.versions[i].validity.to = Some(eff);
            self.versions[i].archive_note = e.archive_note.clone();
        }
        self.versions.extend(delta.begun.iter().cloned());
        self.edges.extend(delta.edges.iter().cloned());
        self.reorgs.insert(delta.info.key.clone(), delta.info.clone());
        self.reindex();
    }

    /// Checks that `delta` can be reverted: nothing later builds on what it began.
    pub fn check_revert(&self, delta: &AppliedDelta) -> Result<(), RegistryError> {
        let fail = |reason: String| RegistryError::Revert { key: delta.info.key.clone(), reason };
        for v in &delta.begun {
            let Some(current) = self.version(&v.key()) else {
                return Err(fail(format!("{} is no longer in the registry", v.code)));
            };
            if current.validity.to.is_some() || self.out_edges.contains_key(&v.key()) {
                return Err(fail(format!("{} was changed by a later reorganization", v.code)));
            }
        }
        Ok(())
    }

    /// Undoes an applied reorganization exactly.
    pub fn revert(&mut self, delta: &AppliedDelta) -> Result<(), RegistryError> {
        self.check_revert(delta)?;
        let begun: HashSet<VersionKey> = delta.begun.iter().map(UnitVersion::key).collect();
        self.versions.retain(|v| !begun.contains(&v.key()));
        self.edges.retain(|e| e.reorganization != delta.info.key);
        self.reindex();
        for e in &delta.ended {
            let i = self.by_key[&e.key];
            self.versions[i].validity.to = None;
            self.versions[i].archive_note = None;
        }
        self.refresh_boundaries();
        self.reorgs.remove(&delta.info.key);
        Ok(())
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
                _ => problems.push(format!("edge {} → {} does not join an end to a start", e.from.code, e.to.code)),
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
