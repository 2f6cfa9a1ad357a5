//! Cutovers (chuyển đổi): taking a reorganization into the reporting system
//! at a set moment, 00:00 (Vietnam time) of its effective day. A cutover
//! names the reorganization (already in the registry, or applied with it),
//! the form versions that start, the regimes reassigned to the new units,
//! and the account plan of the day; it is checked as a whole, every problem
//! listed, before anything is written.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::directory::Step;
use crate::form::Form;
use crate::regime::Regime;
use crate::registry::Registry;
use crate::reorg::{AppliedDelta, Reorganization};

/// Where the reorganization of a cutover comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ReorgSource {
    /// Already applied in the registry (e.g. by `registry load-2025`).
    Applied { key: String },
    /// Applied by the cutover, in its transaction.
    Plan { reorganization: Reorganization },
}

impl ReorgSource {
    pub fn key(&self) -> &str {
        match self {
            ReorgSource::Applied { key } => key,
            ReorgSource::Plan { reorganization } => &reorganization.info.key,
        }
    }
}

/// The account section of a cutover: the reporting system's plan of the
/// effective day, from the rosters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountPlan {
    /// The province's mail domain: official addresses are usernames.
    pub domain: String,
    /// Days a retired grant stays readable before the account closes.
    #[serde(default = "default_grace_days")]
    pub grace_days: u64,
}

fn default_grace_days() -> u64 {
    crate::directory::DEFAULT_GRACE_DAYS
}

/// What the scheduler does on `today` for a cutover scheduled to take
/// effect on `effective` (at 00:00 of that day, Vietnam time): nothing
/// until the day before, when it rehearses it (a dry run, its outcome sent
/// to administrators), and from the day itself on (a run missed while no
/// server ran included) it applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduledStep {
    Rehearse,
    Apply,
}

pub fn scheduled_step(effective: NaiveDate, today: NaiveDate) -> Option<ScheduledStep> {
    if today >= effective {
        Some(ScheduledStep::Apply)
    } else if today.succ_opt() == Some(effective) {
        Some(ScheduledStep::Rehearse)
    } else {
        None
    }
}

/// A cutover plan with its files read: what `check`, `dry-run` and `apply`
/// work on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cutover {
    pub key: String,
    pub name: String,
    /// The first day of the new structure; the cutover happens at 00:00.
    pub effective_date: NaiveDate,
    /// Packages are made for the dissolved units under this unit (as it
    /// was the day before); every dissolved unit when absent.
    pub scope: Option<String>,
    /// Named in the packages (bag-info `Source-Organization`).
    pub source_organization: String,
    pub reorganization: ReorgSource,
    pub forms: Vec<Form>,
    pub regimes: Vec<Regime>,
    pub accounts: Option<AccountPlan>,
}

impl Cutover {
    /// A fingerprint of the plan's content: the same plan applied twice is
    /// recognised, a different plan under the same key is refused.
    pub fn checksum(&self) -> String {
        let text = serde_json::to_string(self).expect("plain data serializes");
        format!("{:x}", Sha256::digest(text.as_bytes()))
    }

    /// Problems of the plan itself and against the registry as it will be
    /// (`registry` with `delta` applied), all of them.
    pub fn check(&self, registry: &Registry, delta: &AppliedDelta, form_codes: &BTreeSet<String>) -> Vec<String> {
        let mut problems = Vec::new();
        let eff = self.effective_date;
        if delta.info.effective_date != eff {
            problems.push(format!(
                "đợt sắp xếp «{}» có hiệu lực ngày {}, không phải ngày chuyển đổi {}",
                delta.info.key,
                crate::date::format_vn(delta.info.effective_date),
                crate::date::format_vn(eff)
            ));
        }
        for f in &self.forms {
            if f.valid_from != Some(eff) {
                problems.push(format!(
                    "biểu mẫu {}: phiên bản bắt đầu cùng đợt chuyển đổi phải có hiệu lực từ ngày {}",
                    f.code,
                    crate::date::format_vn(eff)
                ));
            }
        }
        let known: BTreeSet<&str> =
            form_codes.iter().map(String::as_str).chain(self.forms.iter().map(|f| f.code.as_str())).collect();
        for r in &self.regimes {
            if !known.contains(r.form.as_str()) {
                problems.push(format!("chế độ báo cáo {}: không có biểu mẫu {}", r.code, r.form));
            }
            let named = r.units.under.iter().chain(r.units.codes.iter());
            let gone: Vec<&str> = named.filter(|c| registry.in_force(c, eff).is_none()).map(String::as_str).collect();
            if !gone.is_empty() {
                problems.push(format!(
                    "chế độ báo cáo {}: các đơn vị không có hiệu lực ngày {}: {}",
                    r.code,
                    crate::date::format_vn(eff),
                    gone.join(", ")
                ));
            }
        }
        if let Some(scope) = &self.scope
            && registry.history(scope).next().is_none()
        {
            problems.push(format!("phạm vi: không có đơn vị mã {scope}"));
        }
        let mut seen = BTreeSet::new();
        for f in &self.forms {
            if !seen.insert(&f.code) {
                problems.push(format!("biểu mẫu {} được liệt kê hai lần", f.code));
            }
        }
        problems
    }
}

/// A unit a reorganization ends: its code stops, or goes on as a new unit
/// formed with others; with where its territory went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DissolvedUnit {
    pub code: String,
    pub name: String,
    pub level: u8,
    /// The last day in force.
    pub last_day: NaiveDate,
    pub successors: Vec<String>,
    /// The archive decision when it has no successor.
    pub archive_note: Option<String>,
}

/// The units `delta` dissolves (see [`DissolvedUnit`]), within `scope`: under it the day
/// before, or gone into it (old Kon Tum's communes, for the new Quảng
/// Ngãi); in code order.
pub fn dissolved_units(registry: &Registry, delta: &AppliedDelta, scope: Option<&str>) -> Vec<DissolvedUnit> {
    let eff = delta.info.effective_date;
    let Some(eve) = eff.pred_opt() else { return Vec::new() };
    let mut successors: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut predecessors: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &delta.edges {
        successors.entry(e.from.code.as_str()).or_default().insert(e.to.code.as_str());
        predecessors.entry(e.to.code.as_str()).or_default().insert(e.from.code.as_str());
    }
    // A code that goes on as the same unit (renamed, re-parented, a xã
    // become a phường) is not dissolved; one that names a merger of several
    // units is a new unit, and the old one is gone.
    let continuing: BTreeSet<&str> = delta
        .begun
        .iter()
        .map(|v| v.code.as_str())
        .filter(|c| predecessors.get(c).is_none_or(|p| p.iter().all(|p| p == c)))
        .collect();
    let mut out: Vec<DissolvedUnit> = delta
        .ended
        .iter()
        .filter(|e| !continuing.contains(e.key.code.as_str()))
        .filter_map(|e| registry.in_force(&e.key.code, eve))
        .filter(|u| {
            scope.is_none_or(|s| {
                let within = |v: &crate::UnitVersion, day| v.code == s || registry.is_under(v, s, day);
                let went_into = successors.get(u.code.as_str()).into_iter().flatten();
                within(u, eve) || went_into.filter_map(|c| registry.in_force(c, eff)).any(|v| within(v, eff))
            })
        })
        .map(|u| DissolvedUnit {
            code: u.code.clone(),
            name: u.name.clone(),
            level: u.level,
            last_day: eve,
            successors: successors
                .get(u.code.as_str())
                .map(|s| s.iter().map(|c| c.to_string()).collect())
                .unwrap_or_default(),
            archive_note: delta.ended.iter().find(|e| e.key.code == u.code).and_then(|e| e.archive_note.clone()),
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out
}

/// What a cutover would change (or changed): the dry run's report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub units_closed: usize,
    pub units_opened: usize,
    /// Dissolved units within the scope: each gets a package.
    pub dissolved: Vec<DissolvedUnit>,
    /// Reports of dissolved units not yet approved, and what becomes of them.
    pub open_reports: Vec<OpenReport>,
    /// Agencies that end on the cutover day, with their successors.
    pub agencies_ending: Vec<EndingAgency>,
    pub forms_started: Vec<String>,
    /// Versions that end because a new one starts.
    pub forms_ended: Vec<String>,
    pub regimes: Vec<String>,
    /// Account steps by action (create, grant, end, read_only, close).
    pub account_steps: BTreeMap<String, usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenReport {
    pub unit: String,
    pub regime: String,
    pub period: String,
    pub status: String,
    /// What the cutover does with it.
    pub fate: String,
}

/// The fate of a report left open when its unit is dissolved: it is kept
/// as it is (never approved on anyone's behalf), becomes read-only, and is
/// packaged with its unit's data so that the successor can see it.
pub const OPEN_REPORT_FATE: &str = "giữ nguyên trạng thái, chỉ xem; đóng gói cùng dữ liệu của đơn vị để bàn giao";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndingAgency {
    pub code: String,
    pub name: String,
    pub successors: Vec<String>,
    pub archive: Option<String>,
}

/// Counts account steps by action, as the summary shows them.
pub fn count_steps(steps: &[Step]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for s in steps {
        let action = match s {
            Step::Create { .. } => "create",
            Step::Grant { .. } => "grant",
            Step::End { .. } => "end",
            Step::ReadOnly { .. } => "read_only",
            Step::Close { .. } => "close",
            Step::Open { .. } => "open",
            Step::Rename { .. } => "rename",
        };
        *out.entry(action.to_string()).or_default() += 1;
    }
    out
}

#[cfg(test)]
mod scheduled_tests {
    use super::*;

    #[test]
    fn a_scheduled_cutover_is_rehearsed_the_day_before_and_applied_from_its_day() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let effective = day("2027-07-01");
        assert_eq!(scheduled_step(effective, day("2027-06-29")), None);
        assert_eq!(scheduled_step(effective, day("2027-06-30")), Some(ScheduledStep::Rehearse));
        assert_eq!(scheduled_step(effective, day("2027-07-01")), Some(ScheduledStep::Apply));
        assert_eq!(
            scheduled_step(effective, day("2027-07-03")),
            Some(ScheduledStep::Apply),
            "a missed day is caught up"
        );
    }
}
