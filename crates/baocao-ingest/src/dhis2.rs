//! DHIS2 dataValueSets, in JSON and in CSV, with identifiers read as codes:
//! `dataElement` is an indicator code, `orgUnit` a unit code.

use baocao_core::datavalue::RawValue;
use baocao_core::text::check_text;
use serde::{Deserialize, Serialize};

use crate::error::{IngestError, Location, Problems};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DataValueSetIn {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    org_unit: Option<String>,
    #[serde(default)]
    data_values: Vec<DataValueIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DataValueIn {
    #[serde(default)]
    data_element: Option<String>,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    org_unit: Option<String>,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    comment: Option<String>,
}

fn problem(file: &str, line: Option<u64>, column: Option<&str>, message: String) -> IngestError {
    IngestError {
        location: Location { file: file.into(), line, column: column.map(Into::into), ..Default::default() },
        message,
    }
}

/// Reads `{"dataValues":[…]}`; top-level `period` and `orgUnit` apply to
/// values that do not name their own.
pub fn read_json(file: &str, text: &str) -> Result<Vec<RawValue>, Problems> {
    let set: DataValueSetIn = serde_json::from_str(text).map_err(|e| {
        Problems(vec![problem(
            file,
            Some(e.line() as u64),
            None,
            format!("not a DHIS2 dataValueSet: {e} (column {})", e.column()),
        )])
    })?;
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(set.data_values.len());
    for (index, v) in set.data_values.into_iter().enumerate() {
        let field = |name: &str| format!("dataValues[{index}].{name}");
        let value = match v.value {
            Some(serde_json::Value::String(s)) => Some(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        let (Some(data_element), Some(period), Some(org_unit), Some(value)) = (
            v.data_element.filter(|s| !s.trim().is_empty()),
            v.period.or_else(|| set.period.clone()),
            v.org_unit.or_else(|| set.org_unit.clone()),
            value,
        ) else {
            errors.push(problem(
                file,
                None,
                Some(&field("value")),
                "cần dataElement, period, orgUnit (ở giá trị hoặc ở cả tập) và một giá trị".into(),
            ));
            continue;
        };
        let fields = [("dataElement", &data_element, false), ("period", &period, false), ("orgUnit", &org_unit, false)];
        let comment = v.comment.as_ref().map(|c| ("comment", c, true));
        for (name, text, lines) in fields.into_iter().chain([("value", &value, true)]).chain(comment) {
            if let Err(e) = check_text(text, lines) {
                errors.push(problem(file, None, Some(&field(name)), e));
            }
        }
        out.push(RawValue { index, data_element, period, org_unit, value, comment: v.comment });
    }
    if errors.is_empty() { Ok(out) } else { Err(Problems(errors)) }
}

/// The columns of DHIS2's CSV layout, in order; the header row is optional.
pub const CSV_COLUMNS: [&str; 10] = [
    "dataelement",
    "period",
    "orgunit",
    "catoptcombo",
    "attroptcombo",
    "value",
    "storedby",
    "lastupdated",
    "comment",
    "followup",
];

/// Reads DHIS2's CSV layout (columns by position, see [`CSV_COLUMNS`]).
pub fn read_csv(file: &str, text: &str) -> Result<Vec<RawValue>, Problems> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(problem(file, Some(line), None, e.to_string()));
                continue;
            }
        };
        if i == 0 && record.get(0).is_some_and(|f| f.trim().eq_ignore_ascii_case("dataelement")) {
            continue;
        }
        let get = |n: usize| record.get(n).map(str::trim).unwrap_or("");
        if record.len() < 6 {
            errors.push(problem(
                file,
                Some(line),
                None,
                format!("cần ít nhất 6 cột ({}…), có {}", CSV_COLUMNS[..6].join(","), record.len()),
            ));
            continue;
        }
        let mut missing = None;
        for (n, name) in [(0, "dataelement"), (1, "period"), (2, "orgunit"), (5, "value")] {
            if get(n).is_empty() {
                missing = Some(name);
            }
        }
        if let Some(name) = missing {
            errors.push(problem(file, Some(line), Some(name), "đang trống; cần có giá trị".into()));
            continue;
        }
        if let Some((n, e)) = record.iter().enumerate().find_map(|(n, f)| Some((n, check_text(f, true).err()?))) {
            errors.push(problem(file, Some(line), CSV_COLUMNS.get(n).copied(), e));
            continue;
        }
        out.push(RawValue {
            index: out.len(),
            data_element: get(0).into(),
            period: get(1).into(),
            org_unit: get(2).into(),
            value: get(5).into(),
            comment: Some(get(8).to_string()).filter(|c| !c.is_empty()),
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(Problems(errors)) }
}

/// One value as DHIS2 writes it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DataValueOut {
    pub data_element: String,
    pub period: String,
    pub org_unit: String,
    pub category_option_combo: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub last_updated: String,
}

impl DataValueOut {
    /// A value without category options (baocao has none: "default").
    pub fn new(
        indicator: String,
        period: String,
        unit: String,
        value: String,
        comment: Option<String>,
        last_updated: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        DataValueOut {
            data_element: indicator,
            period,
            org_unit: unit,
            category_option_combo: "default".into(),
            value,
            comment,
            last_updated: last_updated.to_rfc3339(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DataValueSetOut {
    pub data_values: Vec<DataValueOut>,
}

/// Writes values in DHIS2's CSV layout, with a header row.
pub fn write_csv(values: &[DataValueOut]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).expect("writing to memory");
    for v in values {
        let comment = v.comment.clone().unwrap_or_default();
        w.write_record([
            v.data_element.as_str(),
            &v.period,
            &v.org_unit,
            &v.category_option_combo,
            "",
            &v.value,
            "",
            &v.last_updated,
            &comment,
            "false",
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 strings")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationsIn {
    #[serde(default)]
    complete_data_set_registrations: Vec<RegistrationIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationIn {
    #[serde(default)]
    data_set: Option<String>,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    organisation_unit: Option<String>,
    #[serde(default)]
    completed: Option<bool>,
    #[serde(default)]
    date: Option<String>,
}

/// A completeness registration as received, its codes not yet checked.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRegistration {
    pub index: usize,
    pub data_set: String,
    pub period: String,
    pub org_unit: String,
    /// DHIS2's default: a registration is of a complete data set.
    pub completed: bool,
    pub date: Option<String>,
}

/// Reads `{"completeDataSetRegistrations":[…]}` (DHIS2's Web API).
pub fn read_registrations(file: &str, text: &str) -> Result<Vec<RawRegistration>, Problems> {
    let set: RegistrationsIn = serde_json::from_str(text).map_err(|e| {
        Problems(vec![problem(
            file,
            Some(e.line() as u64),
            None,
            format!("không phải completeDataSetRegistrations của DHIS2: {e} (cột {})", e.column()),
        )])
    })?;
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(set.complete_data_set_registrations.len());
    for (index, r) in set.complete_data_set_registrations.into_iter().enumerate() {
        let field = |name: &str| format!("completeDataSetRegistrations[{index}].{name}");
        let nonblank = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let (Some(data_set), Some(period), Some(org_unit)) =
            (nonblank(r.data_set), nonblank(r.period), nonblank(r.organisation_unit))
        else {
            errors.push(problem(file, None, Some(&field("dataSet")), "cần dataSet, period và organisationUnit".into()));
            continue;
        };
        let date = r.date.filter(|d| !d.trim().is_empty());
        let texts = [("dataSet", Some(&data_set)), ("period", Some(&period)), ("organisationUnit", Some(&org_unit))];
        for (name, text) in texts.into_iter().chain([("date", date.as_ref())]) {
            if let Some(Err(e)) = text.map(|t| check_text(t, false)) {
                errors.push(problem(file, None, Some(&field(name)), e));
            }
        }
        out.push(RawRegistration { index, data_set, period, org_unit, completed: r.completed.unwrap_or(true), date });
    }
    if errors.is_empty() { Ok(out) } else { Err(Problems(errors)) }
}

#[cfg(test)]
mod registration_tests {
    use super::*;

    #[test]
    fn registrations_are_read_complete_unless_said_otherwise_and_each_fault_is_named() {
        let text = r#"{"completeDataSetRegistrations":[
            {"dataSet":"BC","period":"202509","organisationUnit":"23317","date":"2025-10-05"},
            {"dataSet":"BC","period":"202509","organisationUnit":"23527","completed":false}]}"#;
        let read = read_registrations("r.json", text).unwrap();
        assert_eq!((read[0].completed, read[0].date.as_deref()), (true, Some("2025-10-05")));
        assert!(!read[1].completed);
        let bad = r#"{"completeDataSetRegistrations":[{"dataSet":"BC","period":"202509"}]}"#;
        let err = read_registrations("r.json", bad).unwrap_err().to_string();
        assert!(err.contains("completeDataSetRegistrations[0]"), "{err}");
        assert!(read_registrations("r.json", "[1,").is_err());
    }
}
