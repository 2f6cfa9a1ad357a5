//! Sending upward, end to end, with real processes: two provinces'
//! `baocao serve` send their approved reports to a national `baocao serve`
//! (the DHIS2 Web API it offers), which consolidates them. The national
//! instance is stopped for a while and started again: the deliveries wait
//! and retry, and once it is back every approved report arrives, once. A
//! report reopened after it was sent is sent again when approved again. A
//! province's account at the national instance writes its own units only.
//! On PostgreSQL with `BAOCAO_TEST_DATABASE_URL`, else on SQLite files.

mod common;

use std::time::{Duration, Instant};

use baocao_core::access::Role;
use common::{App, Process, spawn};

const SECRET_ENV: &str = "BAOCAO_TEST_UPSTREAM_TOKEN";

/// Saves the link from a province to the national instance at `national`
/// through the command line, as an operator does.
fn link_to(province: &App, national: &str) {
    let definition = format!(
        r#"code = "trung-uong"
name = "Hệ thống báo cáo quốc gia"
url = "{national}/api/v1"
auth = "bearer"
secret_env = "{SECRET_ENV}"
retry_seconds = 1

[[regimes]]
regime = "BC_THANG_TTHC"
data_set = "BC_THANG_TTHC"
"#
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), definition).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", province.db.url.as_str(), "upstream", "set"])
        .arg(file.path())
        .env("CI", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Submits and approves report `(unit, period)` of the province with
/// `received` dossiers.
async fn approve(app: &App, entry: &str, approver: &str, unit: &str, period: &str, received: u32) {
    let submit = format!(
        r#"{{"regime":"BC_THANG_TTHC","unit":"{unit}","period":"{period}","action":"submit","signer":"Lê Văn C","position":"Chủ tịch","values":{{"HS_TIEP_NHAN":"{received}","HS_DUNG_HAN":"1"}}}}"#
    );
    let (status, body) = app.post_as(Some(entry), "/api/v1/reports?answer=outcome", "application/json", &submit).await;
    assert_eq!(status, 200, "{body}");
    let approve = format!(r#"{{"regime":"BC_THANG_TTHC","unit":"{unit}","period":"{period}","action":"approve"}}"#);
    let (status, body) =
        app.post_as(Some(approver), "/api/v1/reports?answer=outcome", "application/json", &approve).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("approved")), "{body}");
}

/// The dossiers received the national instance holds for one unit.
async fn received_at(national: &App, unit: &str, period: &str) -> Option<String> {
    let (_, set) = national.get(&format!("/api/v1/dataValueSets?period={period}&orgUnit={unit}")).await;
    set["dataValues"]
        .as_array()?
        .iter()
        .find(|v| v["dataElement"] == "HS_TIEP_NHAN")
        .and_then(|v| v["value"].as_str().map(str::to_string))
}

/// Waits until every delivery of the province is sent.
async fn all_sent(province: &App, expected: usize) -> Vec<baocao_store::upstream::DeliveryEntry> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = province.db.db.deliveries(100).await.unwrap();
        let live: Vec<_> = list.iter().filter(|d| d.state != "superseded").collect();
        if live.len() == expected && live.iter().all(|d| d.state == "sent") {
            return list;
        }
        assert!(Instant::now() < deadline, "deliveries not all sent: {list:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn provinces_send_approved_reports_to_a_national_instance_that_is_down_for_a_while() {
    let mut national = spawn().await;
    let quang_ngai = spawn().await;
    let mut ha_noi = spawn().await;

    // Each province signs into the national instance with an account of
    // its own, administering its own province there.
    national.add_person("tinh51", Role::SystemAdmin, Some("51")).await;
    national.add_person("tinh01", Role::SystemAdmin, Some("01")).await;
    // Hà Nội's instance reports over Hà Nội's communes.
    let (_, units) = national.get("/api/v1/units?at=2025-09-30&under=01").await;
    let hn_commune = units.as_array().unwrap()[0]["code"].as_str().unwrap().to_string();
    let mut regime = ha_noi.db.db.regime("BC_THANG_TTHC").await.unwrap();
    regime.units.under = Some("01".into());
    ha_noi.db.db.save_regime("test", &regime).await.unwrap();
    let hn_code = hn_commune.as_str();
    ha_noi.add_person("hn_nhaplieu", Role::DataEntry, Some(hn_code)).await;
    ha_noi.add_person("hn_lanhdao", Role::Approver, Some("01")).await;

    let server = Process::serve(&national.db.url).await;
    let national_url = server.base.clone();
    link_to(&quang_ngai, &national_url);
    link_to(&ha_noi, &national_url);
    // The operator's check says the key is not in its environment yet.
    let doctor = std::process::Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", quang_ngai.db.url.as_str(), "doctor", "--format", "json"])
        .env_remove(SECRET_ENV)
        .output()
        .unwrap();
    let findings: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let upstream = findings.as_array().unwrap().iter().find(|f| f["check"] == "upstream").unwrap();
    assert_eq!(upstream["level"], "warn", "{upstream}");
    assert!(upstream["vi"].as_str().unwrap().contains(SECRET_ENV), "{upstream}");
    let qn_token = national.token("tinh51").to_string();
    let hn_token = national.token("tinh01").to_string();
    let args_qn = ["--db", quang_ngai.db.url.as_str(), "serve", "--listen", "127.0.0.1:0"];
    let _qn = Process::start_with(&args_qn, &[(SECRET_ENV, qn_token.as_str())]);
    let args_hn = ["--db", ha_noi.db.url.as_str(), "serve", "--listen", "127.0.0.1:0"];
    let _hn = Process::start_with(&args_hn, &[(SECRET_ENV, hn_token.as_str())]);

    // An approval is sent upward: the values and the completeness.
    approve(&quang_ngai, "ngokbay", "approver", "23317", "202509", 120).await;
    approve(&ha_noi, "hn_nhaplieu", "hn_lanhdao", hn_code, "202509", 300).await;
    let sent = all_sent(&quang_ngai, 1).await;
    assert_eq!(sent[0].http_status, Some(200));
    assert!(sent[0].summary.as_deref().unwrap().contains("\"imported\":2"), "{sent:#?}");
    all_sent(&ha_noi, 1).await;
    assert_eq!(received_at(&national, "23317", "202509").await.as_deref(), Some("120"));
    assert_eq!(received_at(&national, hn_code, "202509").await.as_deref(), Some("300"));
    let (_, registered) =
        national.get("/api/v1/completeDataSetRegistrations?dataSet=BC_THANG_TTHC&period=202509").await;
    let units: Vec<&str> = registered["completeDataSetRegistrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["completed"] == true)
        .map(|r| r["organisationUnit"].as_str().unwrap())
        .collect();
    assert_eq!(units.len(), 2, "{registered}");
    assert!(units.contains(&"23317") && units.contains(&hn_code), "{registered}");
    // The national instance consolidates: each province's figure is the
    // sum of its communes sent.
    let (_, qn) = national.get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=51&period=202509").await;
    assert_eq!(qn["value"], 120.0, "{qn}");
    let (_, hn) = national.get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=01&period=202509").await;
    assert_eq!(hn["value"], 300.0, "{hn}");

    // The national instance goes down; approvals meanwhile wait and retry.
    let address = national_url.trim_start_matches("http://").to_string();
    drop(server);
    approve(&quang_ngai, "ngokbay", "approver", "23317", "202510", 130).await;
    approve(&quang_ngai, "sathay", "approver", "23527", "202509", 40).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = quang_ngai.db.db.deliveries(10).await.unwrap();
        let waiting: Vec<_> = list.iter().filter(|d| d.state == "pending" && d.attempts >= 2).collect();
        if waiting.len() == 2 {
            assert!(waiting.iter().all(|d| d.last_error.as_deref().unwrap_or("").contains("không kết nối")));
            break;
        }
        assert!(Instant::now() < deadline, "deliveries did not retry: {list:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The province's page says so.
    let (status, page) = quang_ngai.text_as("admin", "/admin/upstream").await;
    assert_eq!(status, 200);
    assert!(page.contains("chờ gửi lại") && page.contains("trung-uong"), "{page}");

    // Back on the same address: everything approved arrives, once.
    let _server = Process::start(&["--db", national.db.url.as_str(), "serve", "--listen", address.as_str()]);
    let sent = all_sent(&quang_ngai, 3).await;
    assert!(sent.iter().all(|d| d.summary.as_deref().unwrap().contains("\"imported\":2")), "{sent:#?}");
    assert_eq!(received_at(&national, "23317", "202510").await.as_deref(), Some("130"));
    assert_eq!(received_at(&national, "23527", "202509").await.as_deref(), Some("40"));
    let (_, qn) = national.get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=51&period=202509").await;
    assert_eq!(qn["value"], 160.0, "{qn}");

    // Reopened after it was sent, changed and approved again: sent again,
    // the national figure replaced, not added to.
    let reopen =
        r#"{"regime":"BC_THANG_TTHC","unit":"23317","period":"202509","action":"reopen","reason":"Sai số liệu"}"#;
    let (status, body) =
        quang_ngai.post_as(Some("approver"), "/api/v1/reports?answer=outcome", "application/json", reopen).await;
    assert_eq!(status, 200, "{body}");
    approve(&quang_ngai, "ngokbay", "approver", "23317", "202509", 125).await;
    let sent = all_sent(&quang_ngai, 4).await;
    // Both values are written again: one changed, one the same.
    assert!(sent[0].summary.as_deref().unwrap().contains("\"imported\":0,\"updated\":2"), "{sent:#?}");
    assert_eq!(received_at(&national, "23317", "202509").await.as_deref(), Some("125"));
    let (_, qn) = national.get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=51&period=202509").await;
    assert_eq!(qn["value"], 165.0, "{qn}");
    let (_, total) = national.get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=01&period=202509").await;
    assert_eq!(total["value"], 300.0, "another province's figure is untouched: {total}");

    // A province's account writes its own units only: a figure for Hà Nội
    // sent with Quảng Ngãi's token is refused and nothing of it is stored.
    let foreign = format!(
        r#"{{"dataValues":[{{"dataElement":"HS_TIEP_NHAN","period":"202509","orgUnit":"{hn_code}","value":"1"}}]}}"#
    );
    let (status, summary) =
        national.post_as(Some("tinh51"), "/api/v1/dataValueSets", "application/json", &foreign).await;
    assert_eq!((status, summary["status"].as_str()), (200, Some("ERROR")), "{summary}");
    assert_eq!(summary["conflicts"][0]["errorCode"], "E7617", "{summary}");
    assert_eq!(received_at(&national, hn_code, "202509").await.as_deref(), Some("300"));
    let registration = format!(
        r#"{{"completeDataSetRegistrations":[{{"dataSet":"BC_THANG_TTHC","period":"202509","organisationUnit":"{hn_code}","completed":false}}]}}"#
    );
    let (_, summary) = national
        .post_as(Some("tinh51"), "/api/v1/completeDataSetRegistrations", "application/json", &registration)
        .await;
    assert_eq!(summary["conflicts"][0]["errorCode"], "E7617", "{summary}");
    // Every import is in the national audit chain, which verifies.
    let verdict = national.db.db.verify_audit().await.unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
}
