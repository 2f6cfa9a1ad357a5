//! Data values as they arrive (DHIS2 dataValueSets) and their checks.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::indicator::{Indicator, Value};
use crate::period::Period;
use crate::registry::Registry;
use crate::unit::VersionKey;

/// One value as read from an interchange file, identifiers still as text.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RawValue {
    /// Position in the file (0-based), to point conflicts at it.
    pub index: usize,
    pub data_element: String,
    pub period: String,
    pub org_unit: String,
    pub value: String,
    pub comment: Option<String>,
}

/// A value that passed every check, ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedValue {
    /// Position in the file it came from, as in [`RawValue::index`].
    pub index: usize,
    pub indicator: String,
    /// The unit version in force on the last day of the period.
    pub unit: VersionKey,
    pub period: Period,
    pub value: Value,
    pub comment: Option<String>,
}

/// Why a value was not imported, in the shape DHIS2 import summaries use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// The identifier at fault (indicator code, unit code, period, value).
    pub object: String,
    /// What is wrong, for a person.
    pub value: String,
    pub error_code: String,
    pub indexes: Vec<usize>,
}

impl Conflict {
    fn new(index: usize, object: &str, code: &str, message: String) -> Self {
        Conflict { object: object.to_string(), value: message, error_code: code.to_string(), indexes: vec![index] }
    }
}

/// Checks raw values against the indicators and the registry: a value is
/// kept only for a known indicator, a valid period that has begun by
/// `today`, and a unit in force on the last day of that period (a June
/// report belongs to the units of June, a July report to those of July).
pub fn check(
    raw: Vec<RawValue>,
    indicators: &HashMap<String, Indicator>,
    registry: &Registry,
    today: chrono::NaiveDate,
) -> (Vec<CheckedValue>, Vec<Conflict>) {
    let mut ok = Vec::with_capacity(raw.len());
    let mut conflicts = Vec::new();
    for r in raw {
        let Some(indicator) = indicators.get(r.data_element.trim()) else {
            conflicts.push(Conflict::new(
                r.index,
                &r.data_element,
                "E7610",
                format!("không có chỉ tiêu «{}»", r.data_element),
            ));
            continue;
        };
        let period: Period = match r.period.parse() {
            Ok(p) => p,
            Err(e) => {
                conflicts.push(Conflict::new(r.index, &r.period, "E7611", e));
                continue;
            }
        };
        if !period.is_open(today) {
            let message = format!(
                "period {period} has not begun (its data cut-off window opens on {}): values are taken for \
                 periods that have (kỳ tương lai)",
                crate::date::format_vn(period.cutoff().0)
            );
            conflicts.push(Conflict::new(r.index, &r.period, "E7645", message));
            continue;
        }
        let code = r.org_unit.trim();
        let Some(unit) = registry.in_force(code, period.end()) else {
            let message = if registry.history(code).next().is_none() {
                format!("không có đơn vị mã «{code}»")
            } else {
                format!(
                    "đơn vị {code} không có hiệu lực trong kỳ {} (ngày {})",
                    period.label(),
                    crate::date::format_vn(period.end())
                )
            };
            conflicts.push(Conflict::new(r.index, code, "E7612", message));
            continue;
        };
        match indicator.value_type.parse(&r.value) {
            Ok(value) => ok.push(CheckedValue {
                index: r.index,
                indicator: indicator.code.clone(),
                unit: unit.key(),
                period,
                value,
                comment: r.comment.filter(|c| !c.trim().is_empty()),
            }),
            Err(e) => conflicts.push(Conflict::new(
                r.index,
                &r.value,
                "E7619",
                format!("giá trị của chỉ tiêu {} không hợp lệ: {e}", indicator.code),
            )),
        }
    }
    // One value per indicator, unit and period: which of two entries for
    // the same cell is right cannot be told, so neither is stored.
    let mut entries: HashMap<(&str, &VersionKey, Period), Vec<usize>> = HashMap::new();
    for v in &ok {
        entries.entry((&v.indicator, &v.unit, v.period)).or_default().push(v.index);
    }
    let twice: Vec<((String, String, Period), Vec<usize>)> = entries
        .into_iter()
        .filter(|(_, indexes)| indexes.len() > 1)
        .map(|((indicator, unit, period), indexes)| ((indicator.to_string(), unit.code.clone(), period), indexes))
        .collect();
    if !twice.is_empty() {
        let repeated: std::collections::HashSet<usize> = twice.iter().flat_map(|(_, i)| i.iter().copied()).collect();
        ok.retain(|v| !repeated.contains(&v.index));
        for ((indicator, unit, period), indexes) in twice {
            let listed: Vec<String> = indexes.iter().map(ToString::to_string).collect();
            conflicts.push(Conflict {
                object: unit.clone(),
                value: format!(
                    "chỉ tiêu {indicator} của đơn vị {unit} kỳ {period} được khai báo {} lần (các mục {}); không lưu \
                     giá trị nào trong số đó",
                    indexes.len(),
                    listed.join(", ")
                ),
                error_code: "E7630".into(),
                indexes,
            });
        }
        conflicts.sort_by_key(|c| c.indexes.first().copied());
    }
    (ok, conflicts)
}
