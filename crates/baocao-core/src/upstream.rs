//! Sending upward (gửi lên cấp trên): what a province's instance sends to
//! the system above it, in DHIS2's Web API format, and how it reads the
//! answer.
//!
//! An upstream [`Link`] names the system (its base URL, how it is signed
//! into), the regimes whose approved reports it takes and under which data
//! set, and the codes the upstream knows indicators and units by (its own
//! code is used where none is given: two baocao instances share the
//! national codes). What is sent for an approved report is one
//! dataValueSet ([`data_value_set`]) and one completeness registration
//! ([`registration`]); both are idempotent at the receiver, so sending a
//! delivery again changes nothing there.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How the upstream is signed into; the secret itself is read from the
/// environment variable the link names, never stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// `Authorization: Bearer <token>` (baocao's API tokens).
    Bearer,
    /// `Authorization: ApiToken <token>` (DHIS2's personal access tokens).
    ApiToken,
    /// `Authorization: Basic`, the variable holding `user:password`.
    Basic,
}

/// A regime whose approved reports the upstream takes, as its data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeMap {
    /// The regime's code here.
    pub regime: String,
    /// The data set's identifier upstream.
    pub data_set: String,
}

/// An upstream system and what is sent to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub code: String,
    pub name: String,
    /// The API's base, e.g. `https://baocao.gov.vn/api/v1` or a DHIS2
    /// `https://dhis2.example/api`; `/dataValueSets` and
    /// `/completeDataSetRegistrations` are added to it.
    pub url: String,
    pub auth: Auth,
    /// The environment variable of `serve` that holds the token (or
    /// `user:password`); empty when [`Link::secret_file`] holds it.
    #[serde(default)]
    pub secret_env: String,
    /// A file that holds the token instead, read at each delivery: a
    /// credential systemd (`LoadCredential=`) or a container gives the
    /// service, or the demo's national instance's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<String>,
    /// Seconds before the first retry after a passing failure; doubled at
    /// each failure, at most an hour.
    #[serde(default = "default_retry")]
    pub retry_seconds: u32,
    pub regimes: Vec<RegimeMap>,
    /// Indicator code here → data element upstream.
    #[serde(default)]
    pub indicators: BTreeMap<String, String>,
    /// Unit code here → organisation unit upstream.
    #[serde(default)]
    pub units: BTreeMap<String, String>,
}

fn default_retry() -> u32 {
    30
}

impl Link {
    /// Where the key is, in Vietnamese: «biến môi trường X» or «tệp Y».
    pub fn secret_place(&self) -> String {
        match &self.secret_file {
            Some(file) => format!("tệp {file}"),
            None => format!("biến môi trường {}", self.secret_env),
        }
    }

    /// What makes a definition unusable, in Vietnamese: the URL's scheme
    /// and host are checked where it is read (`ingest::upstream`).
    pub fn check(&self) -> Result<(), String> {
        let code_ok = |c: &str| {
            !c.is_empty() && c.len() <= 64 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        };
        if !code_ok(&self.code) {
            return Err(format!("mã hệ thống cấp trên «{}» chỉ gồm chữ, số, - _ . (tối đa 64 ký tự)", self.code));
        }
        if self.name.trim().is_empty() {
            return Err("cần tên hệ thống cấp trên (name)".into());
        }
        match &self.secret_file {
            Some(file) if file.trim().is_empty() || !self.secret_env.is_empty() => {
                return Err("khóa ở một nơi: biến môi trường (secret_env) hoặc tệp (secret_file), không cả hai".into());
            }
            Some(_) => {}
            None if !code_ok(&self.secret_env) => {
                return Err(format!("tên biến môi trường chứa khóa «{}» không hợp lệ (secret_env)", self.secret_env));
            }
            None => {}
        }
        if self.retry_seconds == 0 || self.retry_seconds > 3600 {
            return Err("retry_seconds phải từ 1 đến 3600 giây".into());
        }
        if self.regimes.is_empty() {
            return Err("cần ít nhất một chế độ báo cáo gửi lên ([[regimes]])".into());
        }
        let mut seen = std::collections::HashSet::new();
        for r in &self.regimes {
            if r.data_set.trim().is_empty() {
                return Err(format!("chế độ «{}»: cần mã tập dữ liệu cấp trên (data_set)", r.regime));
            }
            if !seen.insert(&r.regime) {
                return Err(format!("chế độ «{}» được khai hai lần", r.regime));
            }
        }
        let blank = self.indicators.iter().chain(&self.units).find(|(k, v)| k.trim().is_empty() || v.trim().is_empty());
        if let Some((k, _)) = blank {
            return Err(format!("ánh xạ mã «{k}»: mã hai bên không được để trống"));
        }
        Ok(())
    }

    /// The data set a regime's reports go under, if the link takes them.
    pub fn data_set(&self, regime: &str) -> Option<&str> {
        self.regimes.iter().find(|r| r.regime == regime).map(|r| r.data_set.as_str())
    }

    fn data_element<'a>(&'a self, indicator: &'a str) -> &'a str {
        self.indicators.get(indicator).map_or(indicator, String::as_str)
    }

    fn org_unit<'a>(&'a self, unit: &'a str) -> &'a str {
        self.units.get(unit).map_or(unit, String::as_str)
    }

    /// How long to wait after `attempts` failed tries: the link's first
    /// wait, doubled each time, at most an hour. A passing failure (the
    /// upstream down, overloaded) is never given up: what was approved
    /// reaches the upstream once it is back.
    pub fn retry_after(&self, attempts: i32) -> Duration {
        let first = Duration::seconds(i64::from(self.retry_seconds));
        (first * (1 << attempts.clamp(0, 16))).min(Duration::hours(1))
    }
}

/// An approved report as sent: its unit, period, the day it was approved
/// and its values (indicator code, value as entered), in the codes here.
#[derive(Clone, Debug, PartialEq)]
pub struct Sending<'a> {
    pub regime: &'a str,
    pub unit: &'a str,
    pub period: &'a str,
    pub approved_on: NaiveDate,
    pub values: &'a [(String, String)],
}

/// The dataValueSet of `report` in the upstream's codes; `None` when the
/// link does not take the report's regime. Empty values are left out.
pub fn data_value_set(link: &Link, report: &Sending<'_>) -> Option<Value> {
    let data_set = link.data_set(report.regime)?;
    let values: Vec<Value> = report
        .values
        .iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(indicator, value)| json!({ "dataElement": link.data_element(indicator), "value": value }))
        .collect();
    Some(json!({
        "dataSet": data_set,
        "period": report.period,
        "orgUnit": link.org_unit(report.unit),
        "completeDate": report.approved_on.to_string(),
        "dataValues": values,
    }))
}

/// The completeness registration of `report` in the upstream's codes.
pub fn registration(link: &Link, report: &Sending<'_>) -> Option<Value> {
    let data_set = link.data_set(report.regime)?;
    Some(json!({ "completeDataSetRegistrations": [{
        "dataSet": data_set,
        "period": report.period,
        "organisationUnit": link.org_unit(report.unit),
        "date": report.approved_on.to_string(),
        "completed": true,
    }]}))
}

/// What the upstream's answer means for a delivery.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Taken; the import summary says how (`conflicts` values refused).
    Taken { conflicts: usize },
    /// A passing failure: try again later.
    Retry(String),
    /// Refused for a reason that trying again will not change (signed in
    /// wrongly, nothing imported): an administrator looks.
    Refused(String),
}

/// Reads an HTTP answer of the upstream (`status`, body): DHIS2's import
/// summary, bare or (from DHIS2 2.36) wrapped in `response`, whose
/// `status` is `SUCCESS`, `WARNING` or `ERROR`.
pub fn judge(status: u16, body: &str) -> Verdict {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let summary = parsed.as_ref().map(|v| v.get("response").filter(|r| r.get("status").is_some()).unwrap_or(v));
    let import_status = summary.and_then(|s| s.get("status")).and_then(Value::as_str);
    let conflicts = summary.and_then(|s| s.get("conflicts")).and_then(Value::as_array).map_or(0, Vec::len);
    match (status, import_status) {
        (200..=299 | 409, Some("SUCCESS" | "OK")) => Verdict::Taken { conflicts },
        (200..=299 | 409, Some("WARNING")) => Verdict::Taken { conflicts: conflicts.max(1) },
        (200..=299 | 409, Some("ERROR")) => {
            Verdict::Refused(format!("cấp trên không nhận giá trị nào ({conflicts} xung đột)"))
        }
        (200..=299, _) => Verdict::Refused(format!("cấp trên trả lời {status} nhưng không kèm bản tóm tắt nhập")),
        (408 | 425 | 429 | 500..=599, _) => Verdict::Retry(format!("cấp trên tạm thời không nhận (HTTP {status})")),
        (401 | 403, _) => Verdict::Refused(format!(
            "cấp trên từ chối đăng nhập (HTTP {status}): kiểm tra khóa của liên kết (biến môi trường hoặc tệp)"
        )),
        _ => Verdict::Refused(format!("cấp trên từ chối (HTTP {status})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Link {
        Link {
            code: "trung-uong".into(),
            name: "Hệ thống báo cáo Trung ương".into(),
            url: "https://baocao.example/api/v1".into(),
            auth: Auth::Bearer,
            secret_env: "BAOCAO_UPSTREAM_TOKEN".into(),
            secret_file: None,
            retry_seconds: 30,
            regimes: vec![RegimeMap { regime: "BC_THANG".into(), data_set: "DS1".into() }],
            indicators: [("HS_TIEP_NHAN".to_string(), "deA".to_string())].into(),
            units: [("23317".to_string(), "ouX".to_string())].into(),
        }
    }

    #[test]
    fn an_approved_report_is_sent_in_the_upstreams_codes_without_empty_values() {
        let values = vec![
            ("HS_TIEP_NHAN".to_string(), "120".to_string()),
            ("HS_DUNG_HAN".to_string(), "100".to_string()),
            ("GHI_CHU".to_string(), " ".to_string()),
        ];
        let report = Sending {
            regime: "BC_THANG",
            unit: "23317",
            period: "202507",
            approved_on: NaiveDate::from_ymd_opt(2025, 8, 10).unwrap(),
            values: &values,
        };
        let set = data_value_set(&link(), &report).unwrap();
        assert_eq!(set["dataSet"], "DS1");
        assert_eq!(set["orgUnit"], "ouX");
        assert_eq!(set["completeDate"], "2025-08-10");
        assert_eq!(
            set["dataValues"],
            json!([{ "dataElement": "deA", "value": "120" }, { "dataElement": "HS_DUNG_HAN", "value": "100" }])
        );
        let reg = registration(&link(), &report).unwrap();
        assert_eq!(reg["completeDataSetRegistrations"][0]["organisationUnit"], "ouX");
        assert!(data_value_set(&link(), &Sending { regime: "OTHER", ..report }).is_none());
    }

    #[test]
    fn the_key_is_in_one_place() {
        assert_eq!(link().check(), Ok(()));
        let in_file =
            Link { secret_env: String::new(), secret_file: Some("/run/credentials/baocao/upstream".into()), ..link() };
        assert_eq!(in_file.check(), Ok(()));
        assert_eq!(in_file.secret_place(), "tệp /run/credentials/baocao/upstream");
        assert!(Link { secret_file: Some("/x".into()), ..link() }.check().is_err(), "both");
        assert!(Link { secret_env: String::new(), ..link() }.check().is_err(), "neither");
        assert!(Link { secret_env: String::new(), secret_file: Some(" ".into()), ..link() }.check().is_err());
    }

    #[test]
    fn answers_are_judged_as_taken_retried_or_refused() {
        let ok = r#"{"status":"SUCCESS","importCount":{"imported":2},"conflicts":[]}"#;
        assert_eq!(judge(200, ok), Verdict::Taken { conflicts: 0 });
        let wrapped = r#"{"httpStatusCode":409,"response":{"status":"WARNING","conflicts":[{},{}]}}"#;
        assert_eq!(judge(409, wrapped), Verdict::Taken { conflicts: 2 });
        assert!(matches!(judge(200, r#"{"status":"ERROR","conflicts":[{}]}"#), Verdict::Refused(_)));
        assert!(matches!(judge(503, "down"), Verdict::Retry(_)));
        assert!(matches!(judge(429, ""), Verdict::Retry(_)));
        assert!(matches!(judge(401, ""), Verdict::Refused(_)));
        assert!(matches!(judge(200, "<html>"), Verdict::Refused(_)));
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let l = link();
        assert_eq!(l.retry_after(0), Duration::seconds(30));
        assert_eq!(l.retry_after(2), Duration::minutes(2));
        assert_eq!(l.retry_after(40), Duration::hours(1));
    }

    #[test]
    fn a_definition_without_regimes_or_with_a_bad_code_is_refused() {
        assert!(link().check().is_ok());
        assert!(Link { regimes: vec![], ..link() }.check().is_err());
        assert!(Link { code: "a b".into(), ..link() }.check().is_err());
        assert!(Link { retry_seconds: 0, ..link() }.check().is_err());
    }
}
