//! Reorganizations (sắp xếp đơn vị hành chính): what changes, and how a set
//! of changes compiles into ended versions, begun versions and lineage edges.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::unit::{UnitKind, UnitVersion, VersionKey};

/// A lineage edge: part or all of `from`'s territory went to `to` with the
/// reorganization `reorganization` (its key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub from: VersionKey,
    pub to: VersionKey,
    pub partial: bool,
    /// Share of `from` that went to `to`; `None` when unknown.
    pub weight: Option<f64>,
    pub reorganization: String,
}

/// The identity and legal basis of a reorganization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReorgInfo {
    /// A stable key chosen by whoever writes the plan, e.g. `vn-2025-two-level`.
    pub key: String,
    pub name: String,
    /// The first day of the new structure; old versions end the day before.
    pub effective_date: NaiveDate,
    /// Number and symbol of the legal document (e.g. a National Assembly
    /// Standing Committee resolution).
    pub legal_basis: Option<String>,
}

/// A reorganization: a set of changes that take effect together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reorganization {
    #[serde(flatten)]
    pub info: ReorgInfo,
    pub changes: Vec<Change>,
}

/// A unit that begins with a reorganization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// Derived from the parent when absent.
    #[serde(default)]
    pub level: Option<u8>,
    #[serde(default)]
    pub parent_code: Option<String>,
}

/// A share of a unit's territory going somewhere; `weight` is the share of
/// the *older* unit (0 < w ≤ 1), unknown when absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub code: String,
    #[serde(default)]
    pub weight: Option<f64>,
}

/// A predecessor of a unit formed by succession; `partial` when only part
/// of its territory went to the successor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Predecessor {
    pub code: String,
    #[serde(default)]
    pub partial: bool,
    #[serde(default)]
    pub weight: Option<f64>,
}

/// One change of a reorganization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A new unit with no predecessor (thành lập mới).
    Create {
        unit: NewUnit,
    },
    /// A unit ends; its territory goes to existing units, or an archive
    /// decision says why it has no successor (giải thể).
    Dissolve {
        code: String,
        #[serde(default)]
        successors: Vec<Share>,
        #[serde(default)]
        archive: Option<String>,
    },
    /// Several units become one, which may keep one of their codes (nhập).
    Merge {
        codes: Vec<String>,
        into: NewUnit,
    },
    /// One unit becomes several (chia tách), each with its share.
    Split {
        code: String,
        into: Vec<SplitPart>,
    },
    /// Part of one unit's territory moves to another (điều chỉnh địa giới).
    TransferPart {
        from: String,
        to: String,
        #[serde(default)]
        weight: Option<f64>,
    },
    Rename {
        code: String,
        name: String,
    },
    Reparent {
        code: String,
        parent_code: String,
    },
    ChangeKind {
        code: String,
        kind: UnitKind,
    },
    /// Every unit of a level ends; successors derive from their children's.
    AbolishLevel {
        level: u8,
    },
    /// The general n→1 form the national conversion lists use: a new unit
    /// and where its territory came from.
    Succession {
        predecessors: Vec<Predecessor>,
        successor: NewUnit,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitPart {
    pub unit: NewUnit,
    #[serde(default)]
    pub weight: Option<f64>,
}

/// A problem that prevents applying a reorganization; always names codes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReorgError {
    pub code: String,
    pub message: String,
}

impl fmt::Display for ReorgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// What applying a reorganization changed, enough to persist it and to
/// revert it exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppliedDelta {
    pub info: ReorgInfo,
    pub ended: Vec<EndedVersion>,
    pub begun: Vec<UnitVersion>,
    pub edges: Vec<Edge>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndedVersion {
    pub key: VersionKey,
    pub archive_note: Option<String>,
}

/// Attribute changes to a continuing code, merged across changes so that a
/// rename and a re-parent of one unit yield one new version.
#[derive(Default, Debug)]
pub(crate) struct Modification {
    pub name: Option<String>,
    pub kind: Option<UnitKind>,
    pub parent_code: Option<String>,
}

#[derive(Debug)]
pub(crate) struct PlanEdge {
    pub from: String,
    pub to: String,
    pub partial: bool,
    pub weight: Option<f64>,
}

/// A reorganization reduced to primitives, before it meets the registry.
#[derive(Default, Debug)]
pub(crate) struct Plan {
    pub ends: BTreeMap<String, Option<String>>,
    pub begins: BTreeMap<String, NewUnit>,
    pub modifications: BTreeMap<String, Modification>,
    pub edges: Vec<PlanEdge>,
    pub abolished_levels: BTreeSet<u8>,
    pub errors: Vec<ReorgError>,
}

impl Plan {
    pub fn compile(reorg: &Reorganization) -> Plan {
        let mut plan = Plan::default();
        for change in &reorg.changes {
            plan.add(change);
        }
        plan
    }

    fn error(&mut self, code: &str, message: impl Into<String>) {
        self.errors.push(ReorgError { code: code.to_string(), message: message.into() });
    }

    fn end(&mut self, code: &str, archive: Option<String>) {
        let slot = self.ends.entry(code.to_string()).or_default();
        if archive.is_some() {
            *slot = archive;
        }
    }

    fn begin(&mut self, unit: &NewUnit) {
        if self.begins.contains_key(&unit.code) {
            self.error(&unit.code, "trùng mã: nhiều đơn vị cùng bắt đầu với mã này");
        } else {
            self.begins.insert(unit.code.clone(), unit.clone());
        }
    }

    fn edge(&mut self, from: &str, to: &str, partial: bool, weight: Option<f64>) {
        let weight = if partial { weight } else { Some(weight.unwrap_or(1.0)) };
        self.edges.push(PlanEdge { from: from.into(), to: to.into(), partial, weight });
    }

    fn modify(&mut self, code: &str, apply: impl FnOnce(&mut Modification) -> Option<&'static str>) {
        let m = self.modifications.entry(code.to_string()).or_default();
        if let Some(field) = apply(m) {
            self.error(code, format!("trong một đợt sắp xếp có các thay đổi mâu thuẫn về {field}"));
        }
    }

    fn add(&mut self, change: &Change) {
        match change {
            Change::Create { unit } => self.begin(unit),
            Change::Dissolve { code, successors, archive } => {
                self.end(code, archive.clone());
                let partial = successors.len() > 1;
                for s in successors {
                    let partial = partial || s.weight.is_some_and(|w| w < 1.0);
                    self.edge(code, &s.code, partial, s.weight);
                }
            }
            Change::Merge { codes, into } => {
                if codes.len() < 2 {
                    self.error(&into.code, "nhập cần ít nhất hai đơn vị");
                }
                for code in codes {
                    self.end(code, None);
                    self.edge(code, &into.code, false, None);
                }
                self.begin(into);
            }
            Change::Split { code, into } => {
                if into.len() < 2 {
                    self.error(code, "chia tách cần ít nhất hai phần");
                }
                self.end(code, None);
                for part in into {
                    self.begin(&part.unit);
                    self.edge(code, &part.unit.code, true, part.weight);
                }
            }
            Change::TransferPart { from, to, weight } => {
                if from == to {
                    self.error(from, "điều chỉnh địa giới cần hai đơn vị khác nhau");
                    return;
                }
                for code in [from, to] {
                    self.modify(code, |_| None);
                }
                // The giver continues with what it keeps; the receiver keeps all
                // of its own territory plus the transferred part.
                self.edge(from, to, true, *weight);
                self.edge(from, from, true, weight.map(|w| 1.0 - w));
            }
            Change::Rename { code, name } => {
                let name = name.clone();
                self.modify(code, |m| set_once(&mut m.name, name, "tên"));
            }
            Change::Reparent { code, parent_code } => {
                let parent = parent_code.clone();
                self.modify(code, |m| set_once(&mut m.parent_code, parent, "đơn vị cấp trên"));
            }
            Change::ChangeKind { code, kind } => {
                let kind = *kind;
                self.modify(code, |m| set_once(&mut m.kind, kind, "loại đơn vị"));
            }
            Change::AbolishLevel { level } => {
                self.abolished_levels.insert(*level);
            }
            Change::Succession { predecessors, successor } => {
                if predecessors.is_empty() {
                    self.error(&successor.code, "kế thừa cần ít nhất một đơn vị tiền thân");
                }
                for p in predecessors {
                    self.end(&p.code, None);
                    self.edge(&p.code, &successor.code, p.partial, p.weight);
                }
                self.begin(successor);
            }
        }
    }
}

fn set_once<T: PartialEq>(slot: &mut Option<T>, value: T, field: &'static str) -> Option<&'static str> {
    match slot {
        Some(existing) if *existing != value => Some(field),
        _ => {
            *slot = Some(value);
            None
        }
    }
}
