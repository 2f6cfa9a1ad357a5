//! Forms (biểu mẫu) and their validation rules.
//!
//! A form is written as a TOML file people can read and review:
//!
//! ```toml
//! code = "BM01"
//! name = "Báo cáo tình hình giải quyết thủ tục hành chính"
//! kind = "input"
//! valid_from = "2025-07-01"
//! columns = ["year_plan", "this_period", "cumulative", "same_period_last_year", "percent_of_plan", "percent_of_same_period"]
//!
//! [[rows]]
//! stt = "I"
//! label = "Thủ tục hành chính"
//! heading = true
//!
//! [[rows]]
//! stt = "1"
//! indicator = "HS_TIEP_NHAN"
//! indent = 1
//!
//! [[rules]]
//! rule = "part_le_total"
//! part = "HS_DUNG_HAN"
//! total = "HS_TIEP_NHAN"
//! ```
//!
//! Only the year plan and this period's value are entered; the other
//! columns are computed.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::date::Validity;
use crate::indicator::Indicator;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// Biểu đầu vào: filled by a unit.
    Input,
    /// Biểu đầu ra: computed across units or forms.
    Output,
}

/// The usual columns of a Vietnamese report form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// Kế hoạch năm (entered).
    YearPlan,
    /// Thực hiện kỳ này (entered).
    ThisPeriod,
    /// Lũy kế từ đầu năm (computed).
    Cumulative,
    /// Cùng kỳ năm trước (computed, restated to the unit's structure).
    SamePeriodLastYear,
    /// So với kế hoạch năm, % (computed).
    PercentOfPlan,
    /// So với cùng kỳ, % (computed).
    PercentOfSamePeriod,
}

impl Column {
    pub fn entered(self) -> bool {
        matches!(self, Column::YearPlan | Column::ThisPeriod)
    }

    pub fn heading(self) -> &'static str {
        match self {
            Column::YearPlan => "Kế hoạch năm",
            Column::ThisPeriod => "Thực hiện kỳ này",
            Column::Cumulative => "Lũy kế từ đầu năm",
            Column::SamePeriodLastYear => "Cùng kỳ năm trước",
            Column::PercentOfPlan => "So với kế hoạch năm (%)",
            Column::PercentOfSamePeriod => "So với cùng kỳ (%)",
        }
    }
}

/// One row of a form: a heading, or an indicator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormRow {
    /// Số thứ tự as printed: "I", "1", "1.1", "a".
    #[serde(default)]
    pub stt: String,
    /// The indicator of the row; headings have none.
    #[serde(default)]
    pub indicator: Option<String>,
    /// The printed label; the indicator's name when absent.
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub heading: bool,
    #[serde(default)]
    pub indent: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks submission.
    #[default]
    Error,
    /// Shown, does not block.
    Warning,
}

/// A validation rule over this period's values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    Required {
        indicator: String,
        #[serde(default)]
        severity: Severity,
    },
    Range {
        indicator: String,
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
        #[serde(default)]
        severity: Severity,
    },
    /// A part cannot exceed its total.
    PartLeTotal {
        part: String,
        total: String,
        #[serde(default)]
        severity: Severity,
    },
    /// The parts add up to the total.
    SumEquals {
        parts: Vec<String>,
        total: String,
        #[serde(default)]
        severity: Severity,
    },
}

/// How an output form lays out what it consolidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// The form's rows and columns for the whole area (a province total).
    #[default]
    Total,
    /// One row per reporting unit, one column per indicator row of the form.
    ByUnit,
}

/// What an output form (biểu đầu ra) consolidates: the reports of a regime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Consolidation {
    pub regime: String,
    #[serde(default)]
    pub layout: Layout,
}

/// A form definition, versioned by validity dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub code: String,
    pub name: String,
    pub kind: FormKind,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    pub columns: Vec<Column>,
    pub rows: Vec<FormRow>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// For an output form: what it consolidates.
    #[serde(default)]
    pub source: Option<Consolidation>,
}

/// A problem found by a rule, for a person: names the indicator and column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub indicator: String,
    pub column: Column,
    /// In Vietnamese.
    pub message: String,
}

impl Form {
    pub fn validity(&self) -> Validity {
        Validity::new(self.valid_from, self.valid_to)
    }

    /// The indicators of the form, in row order.
    pub fn indicators(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().filter_map(|r| r.indicator.as_deref())
    }

    /// Checks the definition against the known indicators; every problem.
    pub fn check(&self, indicators: &HashMap<String, Indicator>) -> Vec<String> {
        let mut problems = Vec::new();
        if self.validity().is_empty() {
            problems.push("ngày hết hiệu lực (valid_to) phải sau ngày bắt đầu (valid_from)".to_string());
        }
        if !self.columns.contains(&Column::ThisPeriod) {
            problems.push("biểu mẫu phải có cột «Thực hiện kỳ này» (this_period)".to_string());
        }
        match (self.kind, &self.source) {
            (FormKind::Output, None) => {
                problems.push("biểu đầu ra phải có nguồn (chế độ báo cáo được tổng hợp)".into())
            }
            (FormKind::Input, Some(_)) => problems.push("biểu nhập liệu không có nguồn; các đơn vị tự nhập".into()),
            _ => {}
        }
        let mut seen = std::collections::HashSet::new();
        for (i, row) in self.rows.iter().enumerate() {
            match (&row.indicator, row.heading) {
                (Some(code), false) => {
                    if !indicators.contains_key(code) {
                        problems.push(format!("dòng {}: không có chỉ tiêu «{code}»", i + 1));
                    }
                    if !seen.insert(code.as_str()) {
                        problems.push(format!("dòng {}: chỉ tiêu «{code}» xuất hiện hai lần", i + 1));
                    }
                }
                (Some(code), true) => {
                    problems.push(format!("dòng {}: dòng tiêu đề không được gắn chỉ tiêu «{code}»", i + 1))
                }
                (None, false) => problems.push(format!("dòng {}: không phải tiêu đề cũng không có chỉ tiêu", i + 1)),
                (None, true) => {}
            }
        }
        for rule in &self.rules {
            for code in rule.indicators() {
                if !seen.contains(code) {
                    problems.push(format!("quy tắc {}: chỉ tiêu «{code}» không có dòng nào trong biểu", rule.name()));
                }
            }
        }
        problems
    }

    /// The label of an indicator's row.
    pub fn label<'a>(&'a self, code: &'a str, indicators: &'a HashMap<String, Indicator>) -> &'a str {
        self.rows
            .iter()
            .find(|r| r.indicator.as_deref() == Some(code))
            .and_then(|r| r.label.as_deref())
            .or_else(|| indicators.get(code).map(|i| i.name.as_str()))
            .unwrap_or(code)
    }

    /// Applies the rules to this period's values.
    pub fn validate(&self, values: &HashMap<String, f64>, indicators: &HashMap<String, Indicator>) -> Vec<Finding> {
        let name = |code: &str| format!("«{}» ({code})", self.label(code, indicators));
        let number = |v: f64| crate::text::format_number(v, if v.fract() == 0.0 { 0 } else { 2 });
        let mut out = Vec::new();
        let mut push = |severity: Severity, indicator: &str, message: String| {
            out.push(Finding { severity, indicator: indicator.to_string(), column: Column::ThisPeriod, message })
        };
        for rule in &self.rules {
            match rule {
                Rule::Required { indicator, severity } => {
                    if !values.contains_key(indicator) {
                        push(
                            *severity,
                            indicator,
                            format!("Chỉ tiêu {}, cột «Thực hiện kỳ này»: chưa nhập số liệu.", name(indicator)),
                        );
                    }
                }
                Rule::Range { indicator, min, max, severity } => {
                    if let Some(v) = values.get(indicator) {
                        let low = min.is_some_and(|m| *v < m);
                        let high = max.is_some_and(|m| *v > m);
                        if low || high {
                            let bound = match (min, max) {
                                (Some(a), Some(b)) => format!("từ {} đến {}", number(*a), number(*b)),
                                (Some(a), None) => format!("không nhỏ hơn {}", number(*a)),
                                (None, Some(b)) => format!("không lớn hơn {}", number(*b)),
                                (None, None) => String::new(),
                            };
                            push(
                                *severity,
                                indicator,
                                format!(
                                    "Chỉ tiêu {}, cột «Thực hiện kỳ này»: giá trị {} phải {bound}.",
                                    name(indicator),
                                    number(*v)
                                ),
                            );
                        }
                    }
                }
                Rule::PartLeTotal { part, total, severity } => {
                    if let (Some(p), Some(t)) = (values.get(part), values.get(total))
                        && p > t
                    {
                        push(
                            *severity,
                            part,
                            format!(
                                "Chỉ tiêu {}, cột «Thực hiện kỳ này»: {} lớn hơn tổng {} của chỉ tiêu {}.",
                                name(part),
                                number(*p),
                                number(*t),
                                name(total)
                            ),
                        );
                    }
                }
                Rule::SumEquals { parts, total, severity } => {
                    if let Some(t) = values.get(total) {
                        let sum: f64 = parts.iter().filter_map(|p| values.get(p)).sum();
                        if (sum - t).abs() > 1e-9 {
                            push(
                                *severity,
                                total,
                                format!(
                                    "Chỉ tiêu {}, cột «Thực hiện kỳ này»: tổng các chỉ tiêu thành phần là {}, khác {}.",
                                    name(total),
                                    number(sum),
                                    number(*t)
                                ),
                            );
                        }
                    }
                }
            }
        }
        out
    }
}

impl Rule {
    fn name(&self) -> &'static str {
        match self {
            Rule::Required { .. } => "required",
            Rule::Range { .. } => "range",
            Rule::PartLeTotal { .. } => "part_le_total",
            Rule::SumEquals { .. } => "sum_equals",
        }
    }

    fn indicators(&self) -> Vec<&str> {
        match self {
            Rule::Required { indicator, .. } | Rule::Range { indicator, .. } => vec![indicator],
            Rule::PartLeTotal { part, total, .. } => vec![part, total],
            Rule::SumEquals { parts, total, .. } => parts.iter().map(String::as_str).chain([total.as_str()]).collect(),
        }
    }
}
