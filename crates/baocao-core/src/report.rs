//! Reports as people see them: a form's rows with entered and computed
//! columns, the state of the workflow, findings and history. Built by the
//! store, shown by the server, printed and written to XLSX.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::form::{Column, Finding};
use crate::period::Period;
use crate::workflow::Status;

/// Who signs a report (ký số): name, position, and when.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Signature {
    pub signer: String,
    pub position: String,
    pub signed_at: DateTime<Utc>,
}

/// One row of a report as shown and printed.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// The same period last year depends on an estimated share.
    pub same_period_estimated: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Revision {
    pub seq: i64,
    pub action: String,
    pub status: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
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
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitCompleteness {
    pub code: String,
    pub name: String,
    pub status: Option<Status>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// Sent by the deadline; `None` while not sent.
    pub on_time: Option<bool>,
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
}
