//! Reporting regimes (chế độ báo cáo): who reports what, how often, by when.
//!
//! ```toml
//! code = "BC_TTHC_THANG"
//! name = "Báo cáo tháng về giải quyết thủ tục hành chính"
//! form = "BM01"
//! periodicity = "monthly"
//! deadline_days_after_cutoff = 5   # cut-off ends on the 14th: due on the 19th
//! [units]
//! under = "51"
//! kinds = ["xã", "phường", "đặc khu"]
//! ```

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::period::{Period, Periodicity};
use crate::registry::Registry;
use crate::unit::{UnitKind, UnitVersion};

/// Which units a regime asks reports from, resolved at each period's last
/// day so that a regime survives a reorganization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct UnitSelector {
    /// Units in the subtree of this code (the unit itself excluded). The
    /// code names the unit as it stands now; for a period before a
    /// reorganization, the subtrees of its predecessors of that day count
    /// (the new Quảng Ngãi's regime covers old Kon Tum's communes in 2024).
    #[serde(default)]
    pub under: Option<String>,
    /// Only units of these kinds.
    #[serde(default)]
    pub kinds: Vec<UnitKind>,
    /// These units, whatever the other criteria say.
    #[serde(default)]
    pub codes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Regime {
    pub code: String,
    pub name: String,
    /// The code of the form reported; the version in force in each period is used.
    pub form: String,
    pub periodicity: Periodicity,
    /// The deadline (thời hạn gửi), in days after the cut-off window closes.
    pub deadline_days_after_cutoff: u32,
    pub units: UnitSelector,
    /// The agency that issued the regime (cơ quan ban hành).
    #[serde(default)]
    pub issued_by: Option<String>,
    /// Reports of periods that have not begun are taken (plans, targets
    /// set ahead); otherwise such a period is refused.
    #[serde(default)]
    pub planning: bool,
    /// The levels a submitted report climbs, in order (`[[approval]]`); it
    /// is approved when the last one approves. None: one level, anyone who
    /// may approve the unit's reports.
    #[serde(default)]
    pub approval: Vec<ApprovalLevel>,
    /// Whoever sent a report may approve it too. Off unless the regime
    /// says so: nobody approves their own submission.
    #[serde(default)]
    pub self_approval: bool,
}

/// One level of a regime's approval chain: who decides there, as a role
/// held on a unit (a grant on exactly that unit, or on the whole system).
///
/// ```toml
/// [[approval]]
/// name = "Lãnh đạo UBND xã"      # a grant of approver on the reporting commune
/// [[approval]]
/// name = "Văn phòng UBND tỉnh"
/// unit = "51"                     # a grant of approver on the province itself
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalLevel {
    pub name: String,
    #[serde(default = "approver")]
    pub role: Role,
    /// The unit the level's grant must be on, as it stands now; none: the
    /// reporting unit itself.
    #[serde(default)]
    pub unit: Option<String>,
}

fn approver() -> Role {
    Role::Approver
}

impl Regime {
    /// Refuses a period whose data cut-off window (Decree 09/2019) has not
    /// begun on `today`, unless the regime takes planning periods: the
    /// December report is open from 15 November, not before.
    pub fn open(&self, period: &Period, today: NaiveDate) -> Result<(), String> {
        if self.planning || period.is_open(today) {
            return Ok(());
        }
        Err(format!(
            "Kỳ «{}» chưa bắt đầu (số liệu tính từ ngày {}): chế độ báo cáo «{}» không nhận số liệu cho kỳ tương lai.",
            period.label(),
            crate::date::format_vn(period.cutoff().0),
            self.name
        ))
    }

    /// The names of the approval chain's levels (empty for one level).
    pub fn level_names(&self) -> Vec<String> {
        self.approval.iter().map(|l| l.name.clone()).collect()
    }

    /// How many levels approve a report: one without a chain.
    pub fn levels(&self) -> usize {
        self.approval.len().max(1)
    }

    /// Refuses a chain whose levels cannot be told apart or reached (the
    /// store checks that their units exist): two levels with the same role on the same unit would let one grant
    /// decide both.
    pub fn check_approval(&self) -> Result<(), String> {
        for (i, level) in self.approval.iter().enumerate() {
            if level.name.trim().is_empty() {
                return Err(format!("Cấp phê duyệt thứ {} chưa có tên.", i + 1));
            }
            if !level.role.permissions().contains(&crate::access::Permission::ApproveReports) {
                return Err(format!(
                    "Cấp phê duyệt «{}»: vai trò «{}» không có quyền phê duyệt báo cáo.",
                    level.name,
                    level.role.vietnamese()
                ));
            }
            if self.approval[..i].iter().any(|l| l.role == level.role && l.unit == level.unit) {
                return Err(format!(
                    "Cấp phê duyệt «{}» trùng vai trò và đơn vị với một cấp trước: hai cấp phải do người khác nhau quyết định.",
                    level.name
                ));
            }
        }
        Ok(())
    }

    /// The last day to send the report of `period`.
    pub fn deadline(&self, period: &Period) -> NaiveDate {
        let (_, cutoff_end) = period.cutoff();
        cutoff_end + Days::new(u64::from(self.deadline_days_after_cutoff))
    }

    /// True when `unit` (in force on the period's last day) is expected to
    /// report for `period`; what [`Regime::units_for`] lists, for one unit.
    pub fn covers(&self, registry: &Registry, unit: &UnitVersion, period: &Period) -> bool {
        let day = period.end();
        if !unit.validity.contains(day) {
            return false;
        }
        if self.units.codes.contains(&unit.code) {
            return true;
        }
        let under = match &self.units.under {
            Some(code) => registry.stand_ins(code, day).iter().any(|root| registry.is_under(unit, root, day)),
            None => self.units.codes.is_empty(),
        };
        under && (self.units.kinds.is_empty() || self.units.kinds.contains(&unit.kind))
    }

    /// The units expected to report for `period`: those of the selector in
    /// force on the period's last day.
    pub fn units_for(&self, registry: &Registry, period: &Period) -> Vec<UnitVersion> {
        let day = period.end();
        let roots = self.units.under.as_deref().map(|code| registry.stand_ins(code, day)).unwrap_or_default();
        let mut units: Vec<UnitVersion> = registry
            .versions()
            .iter()
            .filter(|v| v.validity.contains(day))
            .filter(|v| {
                if self.units.codes.contains(&v.code) {
                    return true;
                }
                let under = match &self.units.under {
                    Some(_) => roots.iter().any(|root| registry.is_under(v, root, day)),
                    None => self.units.codes.is_empty(),
                };
                under && (self.units.kinds.is_empty() || self.units.kinds.contains(&v.kind))
            })
            .cloned()
            .collect();
        units.sort_by(crate::registry::unit_order);
        units
    }

    /// Every period of the regime ending within `from..=to`.
    pub fn periods(&self, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        Period::ending_between(self.periodicity, from, to)
    }
}
