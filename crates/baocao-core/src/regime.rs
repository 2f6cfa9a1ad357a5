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
use crate::workflow::Action;

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

/// Which agencies a regime asks reports from (`[agencies]`), resolved at
/// each period's last day like units. Every agency matching all criteria
/// given reports, and those of `codes` whatever the others say.
///
/// ```toml
/// [agencies]
/// kinds = ["sở"]   # the departments (kinds as the province names them)
/// under = "51"     # serving an area of this subtree (the province itself included)
/// about = "province" # their figures are the province's (see [`About`])
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct AgencySelector {
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub under: Option<String>,
    #[serde(default)]
    pub codes: Vec<String>,
    #[serde(default, skip_serializing_if = "About::is_own")]
    pub about: About,
}

/// Whose figures an agency's report gives. A department reporting the
/// dossiers it handled gives its own; one reporting the province's
/// population or output gives the province's, and the province's figure of
/// those indicators is then read from its reports rather than summed from
/// the communes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum About {
    /// The agency's own work: counted in no area's figure.
    #[default]
    Own,
    /// The area the agency serves (its area of responsibility).
    Area,
    /// The whole province in which the area it serves lies.
    Province,
}

impl About {
    fn is_own(&self) -> bool {
        *self == About::Own
    }

    /// In Vietnamese, for the pages that describe a regime.
    pub fn vietnamese(self) -> &'static str {
        match self {
            About::Own => "số liệu của chính cơ quan",
            About::Area => "số liệu của địa bàn cơ quan phục vụ",
            About::Province => "số liệu của toàn tỉnh",
        }
    }
}

impl AgencySelector {
    /// Whether the agency version `body` (in force on `day`) is asked.
    fn asks(&self, registry: &Registry, body: &UnitVersion, day: NaiveDate) -> bool {
        let Some(agency) = &body.agency else { return false };
        if self.codes.contains(&body.code) {
            return true;
        }
        let kind_ok =
            self.kinds.is_empty() || self.kinds.iter().any(|k| crate::text::fold(k) == crate::text::fold(&agency.kind));
        let area_ok = match &self.under {
            None => true,
            Some(root) => registry.stand_ins(root, day).iter().any(|r| registry.within(body, r, day)),
        };
        let any_criterion = !self.kinds.is_empty() || self.under.is_some();
        (any_criterion || self.codes.is_empty()) && kind_ok && area_ok
    }
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
    /// The administrative units that report. Left out (or empty) in a
    /// regime with `agencies`, no unit reports.
    #[serde(default)]
    pub units: UnitSelector,
    /// The agencies that report (departments, committees…), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agencies: Option<AgencySelector>,
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
    /// Set for an ad-hoc or thematic request: the regime asks once, for
    /// one period, by a day of its own ([`Request`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// Days before the deadline the units that have not sent their report
    /// are reminded (`reminders = [5, 1]`); they are reminded on the day
    /// and weekly while late too (`core::notify::reminder_on`).
    #[serde(default = "default_reminders", skip_serializing_if = "is_default_reminders")]
    pub reminders: Vec<u32>,
}

fn default_reminders() -> Vec<u32> {
    crate::notify::DEFAULT_REMINDERS.to_vec()
}

fn is_default_reminders(days: &[u32]) -> bool {
    days == crate::notify::DEFAULT_REMINDERS
}

/// What a request asks for: an ad-hoc report (báo cáo đột xuất) on an
/// event, or a thematic one (báo cáo chuyên đề) on a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    AdHoc,
    Thematic,
}

impl RequestKind {
    pub const ALL: [RequestKind; 2] = [RequestKind::AdHoc, RequestKind::Thematic];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::AdHoc => "ad_hoc",
            RequestKind::Thematic => "thematic",
        }
    }

    pub fn vietnamese(self) -> &'static str {
        match self {
            RequestKind::AdHoc => "Đột xuất",
            RequestKind::Thematic => "Chuyên đề",
        }
    }

    /// The letters its codes begin with: DX-2026-001, CĐ → CD-2026-001.
    fn prefix(self) -> &'static str {
        match self {
            RequestKind::AdHoc => "DX",
            RequestKind::Thematic => "CD",
        }
    }
}

/// A request for a report (đề nghị báo cáo đột xuất, chuyên đề): a regime
/// whose only period is `period`, due on `deadline`, sent on the strength
/// of `legal_basis` (the document that asks for it). Whoever sent it may
/// extend it (the first deadline is kept) or close it: a closed request
/// takes no more figures, though what was sent may still be approved.
///
/// ```toml
/// [request]
/// kind = "ad_hoc"
/// period = "20261201"          # or a month, a quarter… as periods are written
/// deadline = "2026-12-08"
/// legal_basis = "Công văn số 123/UBND-VP ngày 01/12/2026"
/// sent_on = "2026-12-01"
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub kind: RequestKind,
    pub period: Period,
    pub deadline: NaiveDate,
    pub legal_basis: String,
    pub sent_on: NaiveDate,
    /// The deadline first set, once the request has been extended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
}

impl Request {
    /// Refuses a request no one could answer: without its legal basis, or
    /// due before it was sent.
    pub fn check(&self) -> Result<(), String> {
        if self.legal_basis.trim().is_empty() {
            return Err("Đề nghị báo cáo cần nêu căn cứ (văn bản yêu cầu báo cáo).".into());
        }
        if self.deadline < self.sent_on {
            return Err(format!(
                "Hạn gửi {} trước ngày gửi đề nghị {}.",
                crate::date::format_vn(self.deadline),
                crate::date::format_vn(self.sent_on)
            ));
        }
        Ok(())
    }

    /// The code of the next request of `kind` sent in `year`, after the
    /// `taken` codes: DX-2026-001, DX-2026-002…
    pub fn next_code<'a>(kind: RequestKind, year: i32, taken: impl IntoIterator<Item = &'a str>) -> String {
        let stem = format!("{}-{year}-", kind.prefix());
        let last = taken.into_iter().filter_map(|c| c.strip_prefix(&stem)?.parse::<u32>().ok()).max().unwrap_or(0);
        format!("{stem}{:03}", last + 1)
    }

    /// Moves the deadline later, keeping the first one; refused once closed
    /// or when the new day is not later.
    pub fn extend(&mut self, deadline: NaiveDate) -> Result<(), String> {
        if let Some(closed) = self.closed_on {
            return Err(format!("Đề nghị đã kết thúc ngày {}: không gia hạn được.", crate::date::format_vn(closed)));
        }
        if deadline <= self.deadline {
            return Err(format!("Hạn mới phải sau hạn hiện tại ({}).", crate::date::format_vn(self.deadline)));
        }
        self.extended_from.get_or_insert(self.deadline);
        self.deadline = deadline;
        Ok(())
    }

    /// Closes the request on `today`; refused when it is closed already.
    pub fn close(&mut self, today: NaiveDate) -> Result<(), String> {
        if let Some(closed) = self.closed_on {
            return Err(format!("Đề nghị đã kết thúc ngày {}.", crate::date::format_vn(closed)));
        }
        self.closed_on = Some(today);
        Ok(())
    }
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
    /// The area whose figures a report of `body` (in force on `day`, the
    /// period's last day) gives, as the regime's `about` says: none for an
    /// administrative unit's report (its figures are its own unit's anyway)
    /// and for an agency's own figures.
    pub fn about<'r>(&self, registry: &'r Registry, body: &UnitVersion, day: NaiveDate) -> Option<&'r UnitVersion> {
        let about = self.agencies.as_ref().map_or(About::Own, |a| a.about);
        let area = registry.in_force(body.agency.as_ref()?.area.as_deref()?, day)?;
        match about {
            About::Own => None,
            About::Area => Some(area),
            About::Province => match registry.ancestors(area, day).last() {
                Some(top) => registry.in_force(top, day),
                None => Some(area),
            },
        }
    }

    /// Refuses a period whose data cut-off window (Decree 09/2019) has not
    /// begun on `today`, unless the regime takes planning periods: the
    /// December report is open from 15 November, not before.
    /// A closed request takes nothing but the approval of what was sent.
    pub fn open(&self, period: &Period, today: NaiveDate, action: &Action) -> Result<(), String> {
        if let Some(closed) = self.request.as_ref().and_then(|r| r.closed_on)
            && *action != Action::Approve
        {
            return Err(format!(
                "Đề nghị báo cáo «{}» đã kết thúc ngày {}: không nhận thêm số liệu.",
                self.name,
                crate::date::format_vn(closed)
            ));
        }
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

    /// Refuses a period the regime does not ask for: one of another
    /// periodicity, or for a request, any but its own.
    pub fn asks(&self, period: &Period) -> Result<(), String> {
        match &self.request {
            Some(r) if r.period != *period => Err(format!(
                "Đề nghị báo cáo «{}» chỉ hỏi số liệu {}, không hỏi {}.",
                self.name,
                r.period.label().to_lowercase(),
                period.label().to_lowercase()
            )),
            None if period.periodicity() != self.periodicity => Err(format!(
                "Chế độ báo cáo «{}» báo cáo theo {}, kỳ «{}» không thuộc chế độ này.",
                self.name,
                self.periodicity.vietnamese(),
                period.label()
            )),
            _ => Ok(()),
        }
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

    /// Every problem of what the regime names, in the order a save meets
    /// them: its form (`form_known`), its approval chain, the units of the
    /// chain's levels (`unit_known`). One list for the store that refuses
    /// the first and the editor that shows them all.
    pub fn check_references(&self, form_known: bool, unit_known: impl Fn(&str) -> bool) -> Vec<String> {
        let mut problems = Vec::new();
        if !form_known {
            problems.push(format!("Không có biểu mẫu «{}» (form).", self.form));
        }
        if let Err(e) = self.check_approval() {
            problems.push(e);
        }
        for code in self.approval.iter().filter_map(|l| l.unit.as_deref()).filter(|c| !unit_known(c)) {
            problems.push(format!("Cấp phê duyệt ở đơn vị «{code}»: không có đơn vị này."));
        }
        problems
    }

    /// The last day to send the report of `period`.
    pub fn deadline(&self, period: &Period) -> NaiveDate {
        if let Some(r) = &self.request {
            return r.deadline;
        }
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
        let roots = self.units.under.as_deref().map(|code| registry.stand_ins(code, day)).unwrap_or_default();
        self.asks_body(registry, unit, &roots, day)
    }

    /// Whether `body`, in force on `day`, reports: an agency through
    /// `agencies`, a unit through `units` (`roots`: the stand-ins of
    /// `units.under` that day).
    fn asks_body(&self, registry: &Registry, body: &UnitVersion, roots: &[String], day: NaiveDate) -> bool {
        let u = &self.units;
        // Codes named are asked whatever they are (a request may go to
        // units and agencies alike).
        if u.codes.contains(&body.code) {
            return true;
        }
        if body.kind == crate::unit::UnitKind::Agency {
            return self.agencies.as_ref().is_some_and(|a| a.asks(registry, body, day));
        }
        // A regime of agencies names its units, if any, explicitly.
        if self.agencies.is_some() && *u == UnitSelector::default() {
            return false;
        }
        let under = match &u.under {
            Some(_) => roots.iter().any(|root| registry.is_under(body, root, day)),
            None => u.codes.is_empty(),
        };
        under && (u.kinds.is_empty() || u.kinds.contains(&body.kind))
    }

    /// The units expected to report for `period`: those of the selector in
    /// force on the period's last day.
    pub fn units_for(&self, registry: &Registry, period: &Period) -> Vec<UnitVersion> {
        let day = period.end();
        let roots = self.units.under.as_deref().map(|code| registry.stand_ins(code, day)).unwrap_or_default();
        let mut units: Vec<UnitVersion> = registry
            .versions()
            .iter()
            .filter(|v| v.validity.contains(day) && self.asks_body(registry, v, &roots, day))
            .cloned()
            .collect();
        units.sort_by(crate::registry::unit_order);
        units
    }

    /// Every period of the regime ending within `from..=to`; a request's
    /// one period whatever the range, for as long as the request lasts it
    /// is the only one there is to show.
    pub fn periods(&self, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        if let Some(r) = &self.request {
            return vec![r.period];
        }
        Period::ending_between(self.periodicity, from, to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn request() -> Request {
        Request {
            kind: RequestKind::AdHoc,
            period: "20261201".parse().unwrap(),
            deadline: day("2026-12-08"),
            legal_basis: "Công văn số 45/VP-KSTT".into(),
            sent_on: day("2026-12-01"),
            extended_from: None,
            closed_on: None,
        }
    }

    #[test]
    fn requests_are_numbered_by_kind_and_year() {
        let taken = ["DX-2026-001", "DX-2026-007", "CD-2026-002", "DX-2025-011", "BC_THANG_TTHC", "DX-2026-x"];
        assert_eq!(Request::next_code(RequestKind::AdHoc, 2026, taken), "DX-2026-008");
        assert_eq!(Request::next_code(RequestKind::Thematic, 2026, taken), "CD-2026-003");
        assert_eq!(Request::next_code(RequestKind::AdHoc, 2027, taken), "DX-2027-001");
    }

    #[test]
    fn a_request_is_extended_later_only_and_closed_once() {
        let mut r = request();
        assert!(r.check().is_ok());
        assert!(r.extend(day("2026-12-08")).is_err(), "not later");
        r.extend(day("2026-12-10")).unwrap();
        r.extend(day("2026-12-12")).unwrap();
        assert_eq!((r.deadline, r.extended_from), (day("2026-12-12"), Some(day("2026-12-08"))), "the first kept");
        r.close(day("2026-12-09")).unwrap();
        assert!(r.close(day("2026-12-10")).unwrap_err().contains("09/12/2026"));
        assert!(r.extend(day("2026-12-20")).is_err(), "closed");
        let late = Request { deadline: day("2026-11-30"), ..request() };
        assert!(late.check().is_err());
        let bare = Request { legal_basis: " ".into(), ..request() };
        assert!(bare.check().unwrap_err().contains("căn cứ"));
    }

    #[test]
    fn a_closed_request_takes_only_approvals_of_what_was_sent() {
        let json = r#"{
            "code": "DX-2026-001", "name": "Báo cáo nhanh", "form": "BM01", "periodicity": "daily",
            "deadline_days_after_cutoff": 0, "units": {"codes": ["23317"]},
            "request": {"kind": "ad_hoc", "period": "20261201", "deadline": "2026-12-08",
                        "legal_basis": "Công văn số 45/VP-KSTT", "sent_on": "2026-12-01"}
        }"#;
        let mut regime: Regime = serde_json::from_str(json).unwrap();
        let period = "20261201".parse().unwrap();
        assert_eq!(regime.periods(day("2020-01-01"), day("2020-12-31")), vec![period], "its one period");
        assert_eq!(regime.deadline(&period), day("2026-12-08"));
        assert!(regime.asks(&"20261202".parse().unwrap()).is_err());
        assert!(regime.open(&period, day("2026-12-02"), &Action::Save).is_ok());
        regime.request.as_mut().unwrap().close(day("2026-12-09")).unwrap();
        assert!(regime.open(&period, day("2026-12-10"), &Action::Save).unwrap_err().contains("đã kết thúc"));
        assert!(regime.open(&period, day("2026-12-10"), &Action::Approve).is_ok());
    }
}
