//! Reports as people see them: a form's rows with entered and computed
//! columns, the state of the workflow, findings and history. Built by the
//! store, shown by the server, printed and written to XLSX.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::form::{Column, Finding};
use crate::period::Period;
use crate::workflow::Status;

/// Who signs a report (ký số): name, position, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    pub signer: String,
    pub position: String,
    pub signed_at: DateTime<Utc>,
}

/// The title lines of a signature block (Decree 30/2020/NĐ-CP, Appendix I):
/// on behalf of a collective body when there is one ("TM. ỦY BAN NHÂN
/// DÂN"), then, for a deputy signing for the head, "KT." and the head's
/// title above the deputy's own ("KT. CHỦ TỊCH" over "PHÓ CHỦ TỊCH"); for the
/// head, the title alone. In capitals, as the decree writes them.
pub fn signature_titles(collective: Option<&str>, position: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(body) = collective {
        lines.push(format!("TM. {}", body.trim().to_uppercase()));
    }
    let title = position.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
    if let Some(head) = title.strip_prefix("PHÓ ").filter(|h| !h.is_empty()) {
        lines.push(format!("KT. {head}"));
    }
    if !title.is_empty() {
        lines.push(title);
    }
    lines
}

/// One row of a report as shown and printed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    pub stt: String,
    pub label: String,
    pub indicator: Option<String>,
    pub unit_of_measure: Option<String>,
    pub heading: bool,
    /// Computed by a formula: never entered.
    pub computed: bool,
    pub indent: u8,
    /// Values by column; absent when not applicable or not known.
    pub cells: BTreeMap<String, f64>,
    /// This period's figure depends on an estimated share (a figure of a
    /// period that straddles a split, composed for the unit).
    #[serde(default)]
    pub this_period_estimated: bool,
    /// The same period last year depends on an estimated share.
    pub same_period_estimated: bool,
    /// The year so far (lũy kế) depends on an estimated share: one of the
    /// periods it sums, or of its formula's components, does. Absent from
    /// reports fixed before it was kept, which did not mark it.
    #[serde(default)]
    pub year_to_date_estimated: bool,
    /// The system this period's value was pulled from (a feed's name):
    /// shown as such, and not typed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulled_from: Option<String>,
    /// The same period last year was made, in part, of numbers pulled from
    /// another system. Absent from reports fixed before it was kept.
    #[serde(default)]
    pub same_period_pulled: bool,
    /// The year so far reads a figure pulled from another system: one of
    /// the periods it sums, or of its formula's components, was.
    #[serde(default)]
    pub year_to_date_pulled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Revision {
    pub seq: i64,
    pub action: String,
    pub status: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    /// The level of the approval chain an approval or a return was decided
    /// at (1 the first); none for the other actions.
    pub level: Option<i64>,
}

impl ReportRow {
    /// Whether the figure in `column` depends on an estimated share, the
    /// percentages as the figures they are made of; never a blank cell.
    pub fn estimated(&self, column: Column) -> bool {
        self.depends(column, [self.this_period_estimated, self.same_period_estimated, self.year_to_date_estimated])
    }

    /// Whether the figure in `column` is made, in part, of numbers pulled
    /// from another system (marked ‡), the percentages as the figures they
    /// are made of; never a blank cell.
    pub fn pulled(&self, column: Column) -> bool {
        self.depends(column, [self.pulled_from.is_some(), self.same_period_pulled, self.year_to_date_pulled])
    }

    /// Whether the figure in `column` depends on what is said of this
    /// period, the same period last year and the year so far (`of`).
    fn depends(&self, column: Column, of: [bool; 3]) -> bool {
        let [this, same, to_date] = of;
        self.cells.contains_key(column_key(column))
            && match column {
                Column::ThisPeriod => this,
                Column::SamePeriodLastYear => same,
                Column::PercentOfSamePeriod => this || same,
                Column::Cumulative | Column::PercentOfPlan => to_date,
                Column::YearPlan => false,
            }
    }

    /// A cell as a reader sees it, on a page or a printed report:
    /// percentages with one decimal, other figures whole or with two
    /// decimals, the Vietnamese way; empty when not known.
    pub fn shown(&self, column: Column) -> String {
        match (self.cells.get(column_key(column)).copied(), column) {
            (None, _) => String::new(),
            (Some(v), Column::PercentOfPlan | Column::PercentOfSamePeriod) => crate::text::format_percent(v, 1),
            (Some(v), _) => crate::text::format_number(v, if v.fract() == 0.0 { 0 } else { 2 }),
        }
    }
}

/// A report with its computed columns, findings and history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportView {
    pub regime: String,
    pub form: String,
    pub form_name: String,
    pub unit: String,
    pub unit_name: String,
    pub period: Period,
    pub period_label: String,
    pub status: Status,
    pub deadline: NaiveDate,
    pub submitted_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub returned_reason: Option<String>,
    pub signature: Option<Signature>,
    pub columns: Vec<Column>,
    pub rows: Vec<ReportRow>,
    pub findings: Vec<Finding>,
    pub revisions: Vec<Revision>,
    /// The regime's approval chain, by level name; empty for one level.
    pub levels: Vec<String>,
    /// Levels that approved the report as it was last sent.
    pub approvals: usize,
}

impl ReportView {
    /// Whether any figure shown depends on an estimated share, so that
    /// the page, the print and the workbook say what the mark means.
    pub fn any_estimated(&self) -> bool {
        self.rows.iter().any(|r| self.columns.iter().any(|&c| r.estimated(c)))
    }

    /// Whether a figure other than this period's own (last year's, the
    /// year so far, a percentage) is made partly of pulled numbers: marked
    /// ‡, where this period's own value names its system.
    pub fn any_composed_pulled(&self) -> bool {
        self.rows.iter().any(|r| self.columns.iter().any(|&c| c != Column::ThisPeriod && r.pulled(c)))
    }

    /// What the mark ‡ means on this report, when a figure shown bears it:
    /// the systems this period's values were pulled from, and that other
    /// figures (last year's, the year so far) are made partly of pulled
    /// numbers when any is.
    pub fn pulled_note(&self) -> Option<String> {
        let mut systems: Vec<&str> = self.rows.iter().filter_map(|r| r.pulled_from.as_deref()).collect();
        systems.sort_unstable();
        systems.dedup();
        let own = (!systems.is_empty())
            .then(|| format!("‡ Số liệu lấy tự động từ {}, không do đơn vị nhập.", systems.join(", ")));
        match (own, self.any_composed_pulled()) {
            (own, false) => own,
            (None, true) => Some(PULLED_NOTE.to_string()),
            (Some(own), true) => Some(format!("{own} {PULLED_NOTE}")),
        }
    }

    /// Where the report stands in its approval chain, in words.
    pub fn standing(&self) -> String {
        standing(self.status, self.approvals, &self.levels)
    }

    /// Why `actor` may not approve the report now (see
    /// [`crate::workflow::approval_barred`]), from its history: who last
    /// sent it and who approved it since.
    pub fn approval_barred(&self, actor: &str, self_approval: bool) -> Option<&'static str> {
        let sent = self.revisions.iter().rposition(|r| r.action == "submit");
        let since = sent.map_or(&self.revisions[..], |i| &self.revisions[i + 1..]);
        let approvers: Vec<&str> = since.iter().filter(|r| r.action == "approve").map(|r| r.actor.as_str()).collect();
        let submitter = sent.map(|i| self.revisions[i].actor.as_str());
        crate::workflow::approval_barred(actor, submitter, &approvers, self_approval)
    }
}

/// Where a report of `status` stands in an approval chain of `levels`
/// once `approvals` of them approved it, in words: «Đã gửi, chờ Văn phòng
/// UBND tỉnh duyệt (cấp 2/2)»; its status alone without a chain.
pub fn standing(status: Status, approvals: usize, levels: &[String]) -> String {
    match (status, levels.get(approvals)) {
        (Status::Submitted, Some(next)) => {
            format!("{}, chờ {} duyệt (cấp {}/{})", status.vietnamese(), next, approvals + 1, levels.len())
        }
        (status, _) => status.vietnamese().to_string(),
    }
}

/// What an approved report shows, fixed when it is approved: its figures
/// (entered, planned and computed), findings, names and signer stay as the
/// approver saw them, whatever is entered, reorganized or renamed later.
/// Only reopening the report lets them change. Its history stays live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frozen {
    pub form_name: String,
    pub unit_name: String,
    pub period_label: String,
    pub deadline: NaiveDate,
    pub columns: Vec<Column>,
    pub rows: Vec<ReportRow>,
    pub findings: Vec<Finding>,
    pub signature: Option<Signature>,
}

impl ReportView {
    /// What approving this report fixes.
    pub fn frozen(&self) -> Frozen {
        Frozen {
            form_name: self.form_name.clone(),
            unit_name: self.unit_name.clone(),
            period_label: self.period_label.clone(),
            deadline: self.deadline,
            columns: self.columns.clone(),
            rows: self.rows.clone(),
            findings: self.findings.clone(),
            signature: self.signature.clone(),
        }
    }

    /// This report as it was fixed at approval; its state and history as
    /// they are.
    pub fn with_frozen(self, frozen: Frozen) -> ReportView {
        ReportView {
            form_name: frozen.form_name,
            unit_name: frozen.unit_name,
            period_label: frozen.period_label,
            deadline: frozen.deadline,
            columns: frozen.columns,
            rows: frozen.rows,
            findings: frozen.findings,
            signature: frozen.signature,
            ..self
        }
    }
}

/// Completeness and timeliness of one regime for one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Completeness {
    pub regime: String,
    pub period: Period,
    pub deadline: NaiveDate,
    pub expected: usize,
    pub submitted: usize,
    pub approved: usize,
    pub on_time: usize,
    pub late: usize,
    pub missing: usize,
    pub units: Vec<UnitCompleteness>,
    /// Units of the regime left out because the asker may not see them:
    /// the counts above are of the others only.
    pub withheld: usize,
}

impl UnitCompleteness {
    /// Sent and standing: submitted or approved (what «đã gửi» counts).
    pub fn sent(&self) -> bool {
        matches!(self.status, Some(Status::Submitted | Status::Approved))
    }

    /// Not sent as it stands (none, a draft, or returned): «chưa gửi».
    pub fn unsent(&self) -> bool {
        self.on_time.is_none()
    }
}

impl Completeness {
    /// The counts of `units`, each counted once.
    pub fn of(regime: String, period: Period, deadline: NaiveDate, units: Vec<UnitCompleteness>) -> Completeness {
        let count = |f: &dyn Fn(&UnitCompleteness) -> bool| units.iter().filter(|u| f(u)).count();
        Completeness {
            regime,
            period,
            deadline,
            expected: units.len(),
            submitted: count(&|u| u.sent()),
            approved: count(&|u| u.status == Some(Status::Approved)),
            on_time: count(&|u| u.on_time == Some(true)),
            late: count(&|u| u.on_time == Some(false)),
            missing: count(&|u| u.unsent()),
            units,
            withheld: 0,
        }
    }

    /// Only the units `keep` accepts, counted again: what someone who may
    /// see only those is told, with how many were left out.
    pub fn within(self, keep: impl Fn(&UnitCompleteness) -> bool) -> Completeness {
        let before = self.units.len() + self.withheld;
        let units: Vec<UnitCompleteness> = self.units.into_iter().filter(|u| keep(u)).collect();
        let withheld = before - units.len();
        Completeness { withheld, ..Completeness::of(self.regime, self.period, self.deadline, units) }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitCompleteness {
    pub code: String,
    pub name: String,
    pub status: Option<Status>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// Sent by the deadline; `None` while not sent.
    pub on_time: Option<bool>,
    /// Levels of the approval chain that approved it as last sent.
    pub approvals: usize,
}

#[cfg(test)]
mod tests {
    use super::{signature_titles, standing};
    use crate::workflow::Status;

    #[test]
    fn where_a_report_stands_in_its_chain() {
        let levels = ["Lãnh đạo UBND xã".to_string(), "Văn phòng UBND tỉnh".to_string()];
        assert_eq!(standing(Status::Submitted, 1, &levels), "Đã gửi, chờ Văn phòng UBND tỉnh duyệt (cấp 2/2)");
        assert_eq!(standing(Status::Submitted, 0, &levels), "Đã gửi, chờ Lãnh đạo UBND xã duyệt (cấp 1/2)");
        assert_eq!(standing(Status::Approved, 2, &levels), "Đã duyệt");
        assert_eq!(standing(Status::Submitted, 0, &[]), "Đã gửi");
    }

    #[test]
    fn signature_blocks_as_decree_30_writes_them() {
        let committee = Some("Ủy ban nhân dân");
        assert_eq!(signature_titles(committee, "Chủ tịch"), ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]);
        assert_eq!(
            signature_titles(committee, "  Phó  Chủ tịch "),
            ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
        );
        assert_eq!(signature_titles(None, "Phó Chánh Văn phòng"), ["KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG"]);
        assert_eq!(signature_titles(None, "Giám đốc"), ["GIÁM ĐỐC"]);
    }
}

/// The JSON name of a column, as in form definitions.
pub fn column_key(column: Column) -> &'static str {
    match column {
        Column::YearPlan => "year_plan",
        Column::ThisPeriod => "this_period",
        Column::Cumulative => "cumulative",
        Column::SamePeriodLastYear => "same_period_last_year",
        Column::PercentOfPlan => "percent_of_plan",
        Column::PercentOfSamePeriod => "percent_of_same_period",
    }
}

/// An output form (biểu đầu ra) computed for an area and a period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Consolidated {
    pub form: String,
    pub form_name: String,
    pub regime: String,
    /// The area: a province, a district of its day, or any unit.
    pub unit: String,
    pub unit_name: String,
    pub period: Period,
    pub period_label: String,
    pub layout: crate::form::Layout,
    /// Submitted reports count too, not only approved ones.
    pub include_submitted: bool,
    /// Reports counted, of those expected.
    pub counted: usize,
    pub expected: usize,
    pub headings: Vec<String>,
    pub rows: Vec<ConsolidatedRow>,
}

/// What the mark of an output form's estimated figures means, wherever
/// the form is shown (page, print, workbook).
pub const ESTIMATED_NOTE: &str = "Số có phần ước tính (chia theo tỷ lệ khi đơn vị tách, nhập) được đánh dấu *.";

/// What the mark of a composed figure made partly of numbers pulled from
/// another system means, wherever it is shown.
pub const PULLED_NOTE: &str =
    "Số có phần lấy tự động từ hệ thống khác (nguồn cấp số liệu), không do người nhập, được đánh dấu ‡.";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsolidatedRow {
    pub stt: String,
    pub label: String,
    /// The indicator (layout total) or the unit (layout by unit) of the row.
    pub code: Option<String>,
    pub unit_of_measure: Option<String>,
    pub heading: bool,
    pub indent: u8,
    pub cells: Vec<Option<f64>>,
    /// Some value of the row rests on an estimated share.
    pub estimated: bool,
    /// Some value of the row is made of numbers pulled from another
    /// system (a feed).
    pub pulled: bool,
    /// For each cell that is one composed figure, what it is: indicator,
    /// unit and period, to trace it to its sources (`/values/origin`);
    /// none for a cell computed from several (cumulative, a percentage).
    #[serde(skip)]
    pub traced: Vec<Option<(String, String, Period)>>,
}
