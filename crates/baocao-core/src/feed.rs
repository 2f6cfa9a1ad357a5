//! Feeds (nguồn cấp số liệu): figures another system counts, pulled on a
//! schedule instead of typed in. The administrative-procedure system
//! counts the dossiers each commune received, processed on time and
//! processed fully online; a [`Feed`] says where to fetch them, how often,
//! and which field of a record is the unit, the period, the record's own
//! identifier and each indicator.
//!
//! A fetched document is read into [`Record`]s (`ingest::feed`); here the
//! records become raw values ([`Feed::raw_values`]), checked then like any
//! import (`datavalue::check`), each remembering the record it came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::datavalue::RawValue;
use crate::upstream::Auth;

/// The most records one fetch may hold: a feed is a month's figures of a
/// province's units, not a bulk load.
pub const MAX_RECORDS: usize = 100_000;

/// How the fetched document is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// An array of objects, at the top or under the key `records` names.
    Json,
    /// A header line, then one record a line.
    Csv,
}

/// Which field of a record holds what identifies its values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    /// The record's identifier in the other system, kept with each value.
    pub id: String,
    /// The unit's code (mapped through `units` when given).
    pub unit: String,
    /// The period, as baocao writes periods (202607, 2026Q3, 2026).
    pub period: String,
}

/// A system whose figures are pulled, and how they map to indicators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feed {
    pub code: String,
    pub name: String,
    /// Fetched with GET; checked where it is read (`ingest::feed`).
    pub url: String,
    pub format: Format,
    /// Minutes between two fetches.
    pub every_minutes: u32,
    /// How the system is signed into, if it is; the secret is read from
    /// the environment variable `secret_env` names.
    #[serde(default)]
    pub auth: Option<Auth>,
    #[serde(default)]
    pub secret_env: Option<String>,
    /// For JSON: the key of the top object holding the records.
    #[serde(default)]
    pub records: Option<String>,
    pub fields: Fields,
    /// Field of the record → indicator code here.
    pub indicators: BTreeMap<String, String>,
    /// Unit code in the other system → unit code here (the same code where
    /// none is given).
    #[serde(default)]
    pub units: BTreeMap<String, String>,
}

/// One record as fetched: field → value as text.
pub type Record = BTreeMap<String, String>;

/// A record, or a value of one, that was not taken, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    /// The record's identifier, or its position (`#3`) when it has none.
    pub record: String,
    pub message: String,
}

impl Feed {
    /// What makes a definition unusable, in Vietnamese: the URL is checked
    /// where it is read (`ingest::feed`).
    pub fn check(&self) -> Result<(), String> {
        let code_ok = |c: &str| {
            !c.is_empty() && c.len() <= 64 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        };
        if !code_ok(&self.code) {
            return Err(format!("mã nguồn cấp «{}» chỉ gồm chữ, số, - _ . (tối đa 64 ký tự)", self.code));
        }
        if self.name.trim().is_empty() {
            return Err("cần tên hệ thống cấp số liệu (name)".into());
        }
        if self.every_minutes == 0 || self.every_minutes > 7 * 24 * 60 {
            return Err("every_minutes phải từ 1 đến 10080 phút (một tuần)".into());
        }
        match (&self.auth, &self.secret_env) {
            (Some(_), Some(env)) if code_ok(env) => {}
            (Some(_), _) => return Err("khai auth thì cần secret_env: tên biến môi trường chứa khóa".into()),
            (None, Some(_)) => return Err("khai secret_env thì cần auth (bearer, api_token hoặc basic)".into()),
            (None, None) => {}
        }
        let Fields { id, unit, period } = &self.fields;
        if [id, unit, period].iter().any(|f| f.trim().is_empty()) {
            return Err("[fields]: cần tên trường id, unit và period".into());
        }
        if self.indicators.is_empty() {
            return Err("cần ít nhất một trường ứng với chỉ tiêu ([indicators])".into());
        }
        let blank = self.indicators.iter().chain(&self.units).find(|(k, v)| k.trim().is_empty() || v.trim().is_empty());
        if let Some((k, _)) = blank {
            return Err(format!("ánh xạ «{k}»: tên hai bên không được để trống"));
        }
        Ok(())
    }

    /// The raw values of `records`, each with the identifier of the record
    /// it came from (same index), and the records refused whole (no
    /// identifier, unit or period). A field left empty gives no value: the
    /// other system has not counted it.
    pub fn raw_values(&self, records: &[Record]) -> (Vec<RawValue>, Vec<String>, Vec<Refusal>) {
        let mut raw = Vec::new();
        let mut ids = Vec::new();
        let mut refused = Vec::new();
        for (n, record) in records.iter().enumerate() {
            let field = |name: &str| record.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
            let id = field(&self.fields.id);
            let missing: Vec<&str> = [&self.fields.id, &self.fields.unit, &self.fields.period]
                .into_iter()
                .filter(|f| field(f).is_none())
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                refused.push(Refusal {
                    record: id.map_or_else(|| format!("#{}", n + 1), str::to_string),
                    message: format!("bản ghi thiếu trường {}", missing.join(", ")),
                });
                continue;
            }
            let (Some(id), Some(unit), Some(period)) = (id, field(&self.fields.unit), field(&self.fields.period))
            else {
                continue;
            };
            let unit = self.units.get(unit).map_or(unit, String::as_str);
            for (name, indicator) in &self.indicators {
                let Some(value) = field(name) else { continue };
                raw.push(RawValue {
                    index: raw.len(),
                    data_element: indicator.clone(),
                    period: period.to_string(),
                    org_unit: unit.to_string(),
                    value: value.to_string(),
                    comment: None,
                });
                ids.push(id.to_string());
            }
        }
        (raw, ids, refused)
    }

    /// The indicators the feed fills.
    pub fn filled(&self) -> impl Iterator<Item = &str> {
        self.indicators.values().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> Feed {
        Feed {
            code: "dvc".into(),
            name: "Hệ thống giải quyết thủ tục hành chính".into(),
            url: "https://dvc.example.gov.vn/thong-ke".into(),
            format: Format::Json,
            every_minutes: 60,
            auth: None,
            secret_env: None,
            records: None,
            fields: Fields { id: "ma".into(), unit: "xa".into(), period: "ky".into() },
            indicators: [("tiep_nhan", "HS_TIEP_NHAN"), ("dung_han", "HS_DUNG_HAN")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            units: [("X1".to_string(), "23317".to_string())].into_iter().collect(),
        }
    }

    fn record(pairs: &[(&str, &str)]) -> Record {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn each_mapped_field_of_a_record_is_a_value_that_remembers_its_record() {
        let records = [
            record(&[("ma", "R1"), ("xa", "X1"), ("ky", "202607"), ("tiep_nhan", "120"), ("dung_han", "")]),
            record(&[("ma", "R2"), ("xa", "23527"), ("ky", "202607"), ("tiep_nhan", "7"), ("dung_han", "5")]),
        ];
        let (raw, ids, refused) = feed().raw_values(&records);
        assert!(refused.is_empty());
        let got: Vec<(&str, &str, &str, &str)> =
            raw.iter().map(|r| (r.data_element.as_str(), r.org_unit.as_str(), r.value.as_str(), "")).collect();
        assert_eq!(
            got,
            [
                ("HS_TIEP_NHAN", "23317", "120", ""),
                ("HS_DUNG_HAN", "23527", "5", ""),
                ("HS_TIEP_NHAN", "23527", "7", "")
            ]
        );
        assert_eq!(ids, ["R1", "R2", "R2"]);
        assert!(raw.iter().enumerate().all(|(i, r)| r.index == i));
    }

    #[test]
    fn a_record_without_its_identifying_fields_is_refused_by_position() {
        let records = [record(&[("xa", "X1"), ("tiep_nhan", "1")]), record(&[("ma", "R9"), ("ky", "202607")])];
        let (raw, _, refused) = feed().raw_values(&records);
        assert!(raw.is_empty());
        assert_eq!(refused[0], Refusal { record: "#1".into(), message: "bản ghi thiếu trường ma, ky".into() });
        assert_eq!(refused[1].record, "R9");
    }

    #[test]
    fn definitions_missing_what_they_need_are_refused() {
        assert!(feed().check().is_ok());
        let mut f = feed();
        f.auth = Some(Auth::Bearer);
        assert!(f.check().unwrap_err().contains("secret_env"));
        let mut f = feed();
        f.every_minutes = 0;
        assert!(f.check().is_err());
        let mut f = feed();
        f.indicators.clear();
        assert!(f.check().is_err());
        let mut f = feed();
        f.code = "có dấu".into();
        assert!(f.check().is_err());
    }
}
