//! The `baocao` command as a user runs it, against a fresh database.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use baocao_testkit::TestDb;
use serde_json::Value;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

fn baocao(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baocao"))
        .arg("--db")
        .arg(&db.url)
        .args(args)
        .env("CI", "1")
        .output()
        .expect("baocao runs")
}

fn ok_json(db: &TestDb, args: &[&str]) -> Value {
    let out = baocao(db, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn codes(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect()
}

/// `registry load-2025` of the bundled files with the special-zones
/// supplement, plus `extra` arguments; returns the JSON summary.
fn load_2025(db: &TestDb, extra: &[&str]) -> Value {
    let dir = data_dir();
    let (lists, supplement) = (dir.join("vn-admin"), dir.join("supplements/special-zones-2025.csv"));
    let mut args = vec!["registry", "load-2025", lists.to_str().unwrap(), "--supplement", supplement.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--format", "json"]);
    ok_json(db, &args)
}

async fn loaded() -> TestDb {
    let db = TestDb::new().await;
    let report = tempfile::NamedTempFile::new().unwrap();
    let summary = load_2025(&db, &["--report", report.path().to_str().unwrap()]);
    assert_eq!(summary["before"], serde_json::json!({"1": 63, "2": 696, "3": 10051}));
    assert_eq!(summary["after"], serde_json::json!({"1": 34, "2": 3321}));
    let anomalies: Value = serde_json::from_str(&std::fs::read_to_string(report.path()).unwrap()).unwrap();
    assert_eq!(anomalies["old_communes_without_successor"].as_array().unwrap().len(), 28);
    assert!(anomalies["splits_without_weights"].as_array().unwrap().iter().all(|s| s["code"].is_string()));
    db
}

#[tokio::test]
async fn quang_ngai_before_and_after_the_reform() {
    let db = loaded().await;
    let before = ok_json(&db, &["registry", "units", "--at", "2025-06-30", "--under", "51", "--format", "json"]);
    let levels = |v: &Value, l: u64| v.as_array().unwrap().iter().filter(|u| u["level"] == l).count();
    assert_eq!((levels(&before, 2), levels(&before, 3)), (13, 170));
    let after = ok_json(&db, &["registry", "units", "--at", "01/07/2025", "--under", "51", "--format", "json"]);
    let after = after.as_array().unwrap();
    assert_eq!(after.len(), 96);
    let kind = |k: &str| after.iter().filter(|u| u["kind"] == k).count();
    assert_eq!((kind("xã"), kind("phường"), kind("đặc khu")), (86, 9, 1));
    assert!(
        after.iter().all(|u| u["valid_from"] == "2025-07-01" && u["valid_to"].is_null() && u["parent_code"] == "51")
    );
    // Kon Tum (62) no longer exists; its communes are under 51.
    let kon_tum_city = ok_json(&db, &["registry", "search", "kroong", "--format", "json"]);
    assert!(codes(&kon_tum_city).contains(&"23314"));
}

#[tokio::test]
async fn lineage_of_xa_ngok_bay() {
    let db = loaded().await;
    let l = ok_json(&db, &["registry", "lineage", "23317", "--at", "2025-07-01", "--format", "json"]);
    assert_eq!(l["unit"]["name"], "Xã Ngọk Bay");
    let preds: Vec<&str> = l["predecessors"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(preds, ["23314", "23317", "23320"]);
    for p in l["predecessors"].as_array().unwrap() {
        assert_eq!(p["partial"], false);
        assert_eq!(p["weight"], 1.0);
        assert_eq!(p["reorganization"]["effective_date"], "2025-07-01");
        assert_eq!(p["valid_to"], "2025-07-01");
    }
    let old = ok_json(&db, &["registry", "lineage", "23314", "--at", "2025-06-30", "--format", "json"]);
    assert_eq!(codes(&old["successors"]), ["23317"]);

    // Both directions of the map.
    let forward =
        ok_json(&db, &["registry", "map", "23320", "--from", "2025-06-30", "--to", "2025-07-01", "--format", "json"]);
    assert_eq!(codes(&forward), ["23317"]);
    let back =
        ok_json(&db, &["registry", "map", "23317", "--from", "2025-07-01", "--to", "2024-07-01", "--format", "json"]);
    assert_eq!(codes(&back), ["23314", "23317", "23320"]);
    assert!(back.as_array().unwrap().iter().all(|m| m["weight"] == 1.0));
}

#[tokio::test]
async fn search_show_and_csv() {
    let db = loaded().await;
    for q in ["ngok bay", "NGỌK BAY", "Ngọk"] {
        let found = ok_json(&db, &["registry", "search", q, "--at", "2025-07-01", "--format", "json"]);
        assert!(codes(&found).contains(&"23317"), "{q}");
    }
    let show = ok_json(&db, &["registry", "show", "51", "--at", "2025-06-30", "--format", "json"]);
    assert_eq!(show["name"], "Tỉnh Quảng Ngãi");
    assert_eq!(show["valid_to"], "2025-07-01");
    assert_eq!(show["versions"].as_array().unwrap().len(), 2);
    let out = baocao(&db, &["registry", "units", "--at", "2025-07-01", "--level", "1", "--format", "csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("code,name,kind,level,parent_code,valid_from,valid_to\n"));
    assert_eq!(text.lines().count(), 35);
    let missing = baocao(&db, &["registry", "show", "62", "--at", "2025-07-01"]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("không có hiệu lực vào ngày 01/07/2025"), "{err}");
    // Its versions are told as the pages tell them: the last day in force.
    assert!(err.contains("«Tỉnh Kon Tum» đến hết ngày 30/06/2025"), "{err}");
}

/// The README's examples after `serve --demo`: an empty database says it
/// is empty and where the demo's data is; periods read as people write them.
#[tokio::test]
async fn a_newcomer_is_told_which_database_answered_and_periods_read_as_written() {
    let empty = TestDb::new().await;
    let out = baocao(&empty, &["registry", "units", "--at", "01/07/2025", "--under", "51", "--format", "table"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Không có đơn vị mã 51"), "{err}");
    assert!(err.contains("chưa có đơn vị hành chính nào") && err.contains("--db sqlite:baocao-demo.db"), "{err}");

    let db = with_regime().await;
    for written in ["08/2025", "2025-08", "Tháng 8/2025", "thang 8 nam 2025", "202508"] {
        let out = report(&db, "save", "23317", written, &["--set", "HS_TIEP_NHAN=100"]);
        assert!(out.status.success(), "{written}: {}", String::from_utf8_lossy(&out.stderr));
        let saved: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(saved["period"], "202508", "{written}");
        assert!(out.stderr.is_empty(), "a loaded database says nothing more: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = report(&db, "save", "23317", "13/2025", &["--set", "HS_TIEP_NHAN=100"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("kỳ «13/2025» không hợp lệ") && err.contains("Tháng 11/2025"),
        "{err}"
    );
}

#[tokio::test]
async fn loading_twice_changes_nothing() {
    let db = loaded().await;
    let again = load_2025(&db, &[]);
    assert_eq!(again["already_loaded"], true);
    assert_eq!(again["after"]["2"], 3321);
}

#[tokio::test]
async fn bad_files_are_refused_whole_with_their_place_named() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    for f in ["units-2024.csv", "units-2025.csv", "conversion-2025.csv", "province-conversion-2025.csv"] {
        std::fs::copy(data_dir().join("vn-admin").join(f), dir.path().join(f)).unwrap();
    }
    let path = dir.path().join("units-2025.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("99999,Xã Lạ,làng,2,51\n99998,Xã Mồ Côi,xã,2,404\n");
    std::fs::write(&path, text).unwrap();
    let out = baocao(&db, &["registry", "load-2025", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("units-2025.csv, dòng 3357, cột `type`: loại đơn vị «làng»"), "{err}");
    assert!(err.contains("units-2025.csv, dòng 3358, cột `parent_code`: không có đơn vị cấp trên 404"), "{err}");
    // Nothing was loaded.
    let units = ok_json(&db, &["registry", "units", "--at", "2025-06-30", "--format", "json"]);
    assert!(units.as_array().unwrap().is_empty());
    // A bad date on the command line is named too.
    let out = baocao(&db, &["registry", "units", "--at", "31/02/2025"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("ngày «31/02/2025» không hợp lệ"));
}

#[tokio::test]
async fn strict_mode_refuses_files_with_anomalies() {
    let db = TestDb::new().await;
    let out = baocao(&db, &["registry", "load-2025", data_dir().join("vn-admin").to_str().unwrap(), "--strict"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("old_communes_without_successor: 28"));
    let units = ok_json(&db, &["registry", "units", "--at", "2025-06-30", "--format", "json"]);
    assert!(units.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_reorganization_plan_applies_and_reverts() {
    let db = loaded().await;
    let plan = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(
        plan.path(),
        r#"
key = "2026-merge-test"
name = "Nhập xã thử nghiệm"
effective_date = "2026-01-01"
legal_basis = "Nghị quyết thử nghiệm"

[[changes]]
change = "merge"
codes = ["23317", "23302"]
into = { code = "23317", name = "Xã Ngọk Bay Mới", kind = "xã", parent_code = "51" }
"#,
    )
    .unwrap();
    let dry = ok_json(&db, &["registry", "apply", plan.path().to_str().unwrap(), "--dry-run", "--format", "json"]);
    assert_eq!((dry["units_ended"].as_u64(), dry["units_begun"].as_u64()), (Some(2), Some(1)));
    let unchanged = ok_json(&db, &["registry", "show", "23317", "--at", "2026-01-01", "--format", "json"]);
    assert_eq!(unchanged["name"], "Xã Ngọk Bay");
    ok_json(&db, &["registry", "apply", plan.path().to_str().unwrap(), "--format", "json"]);
    let merged = ok_json(&db, &["registry", "lineage", "23317", "--at", "2026-01-01", "--format", "json"]);
    assert_eq!(merged["unit"]["name"], "Xã Ngọk Bay Mới");
    assert_eq!(codes(&merged["predecessors"]).len(), 2);
    let out = baocao(&db, &["registry", "revert", "2026-merge-test"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let back = ok_json(&db, &["registry", "show", "23317", "--at", "2026-01-01", "--format", "json"]);
    assert_eq!(back["name"], "Xã Ngọk Bay");
}

fn demo_indicators() -> String {
    data_dir().join("demo/indicators.csv").display().to_string()
}

#[tokio::test]
async fn values_import_query_across_the_reform_and_export() {
    let db = loaded().await;
    let out = baocao(&db, &["indicators", "import", &demo_indicators()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Đã tạo 7 chỉ tiêu"));

    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(
        file.path(),
        r#"{"dataSet":"BC_THANG","period":"202407","dataValues":[
            {"dataElement":"HS_TIEP_NHAN","orgUnit":"23314","value":"12"},
            {"dataElement":"HS_TIEP_NHAN","orgUnit":"23317","value":20,"comment":"số liệu chính thức"},
            {"dataElement":"HS_TIEP_NHAN","orgUnit":"23320","value":"31"},
            {"dataElement":"HS_TIEP_NHAN","orgUnit":"23314","period":"202508","value":"5"},
            {"dataElement":"HS_TIEP_NHAN","orgUnit":"23317","period":"202508","value":"7.5"},
            {"dataElement":"KHONG_CO","orgUnit":"23317","value":"1"}
        ]}"#,
    )
    .unwrap();
    let summary = ok_json(&db, &["data", "import", file.path().to_str().unwrap()]);
    assert_eq!(summary["status"], "WARNING");
    assert_eq!(summary["importCount"]["imported"], 3);
    assert_eq!(summary["importCount"]["ignored"], 3);
    let conflict = |object: &str| {
        summary["conflicts"].as_array().unwrap().iter().find(|c| c["object"] == object).map(|c| c["value"].to_string())
    };
    // Xã Kroong no longer exists in August 2025: a conflict, not stored.
    assert!(conflict("23314").unwrap().contains("không có hiệu lực trong kỳ Tháng 8/2025"));
    assert!(conflict("7.5").unwrap().contains("cần một số nguyên không âm"));
    assert!(conflict("KHONG_CO").unwrap().contains("không có chỉ tiêu"));

    // The July 2024 value of the new Xã Ngọk Bay, in the 2025 structure:
    // Kroong + old Ngọk Bay + Vinh Quang.
    let q = ok_json(
        &db,
        &[
            "data",
            "query",
            "--indicator",
            "HS_TIEP_NHAN",
            "--unit",
            "23317",
            "--period",
            "202407",
            "--structure-at",
            "2025-07-01",
            "--format",
            "json",
        ],
    );
    assert_eq!(q["value"], 63.0);
    assert_eq!(q["estimated"], false);
    let sources: Vec<&str> = q["sources"].as_array().unwrap().iter().map(|s| s["unit"].as_str().unwrap()).collect();
    assert_eq!(sources, ["23314", "23317", "23320"]);
    // In its own structure, the old commune is just itself.
    let own = ok_json(
        &db,
        &["data", "query", "--indicator", "HS_TIEP_NHAN", "--unit", "23317", "--period", "202407", "--format", "json"],
    );
    assert_eq!(own["value"], 20.0);
    // The province of 2024 (Kon Tum, 62) sums its communes.
    let province = ok_json(
        &db,
        &["data", "query", "--indicator", "HS_TIEP_NHAN", "--unit", "62", "--period", "202407", "--format", "json"],
    );
    assert_eq!(province["value"], 63.0);

    // Export, then import the export: the same values, now updates.
    let out =
        baocao(&db, &["data", "export", "--period", "202407", "--org-unit", "62", "--children", "--format", "csv"]);
    let csv_text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv_text.lines().count(), 4, "{csv_text}");
    assert!(csv_text.contains("số liệu chính thức"));
    let again = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    std::fs::write(again.path(), &csv_text).unwrap();
    let summary = ok_json(&db, &["data", "import", again.path().to_str().unwrap()]);
    assert_eq!((summary["status"].as_str(), summary["importCount"]["updated"].as_u64()), (Some("SUCCESS"), Some(3)));

    // The same figures as a table in the 2025 structure: Quảng Ngãi (51)
    // and every unit under it, July 2024 to August 2025. Only figures with
    // a value are written, each the one `data query` gives.
    let table = |format: &str| {
        let args = [
            "data",
            "export",
            "--structure-at",
            "01/07/2025",
            "--from",
            "202407",
            "--to",
            "202508",
            "--org-unit",
            "51",
            "--children",
            "--indicator",
            "HS_TIEP_NHAN",
            "--format",
            format,
        ];
        let out = baocao(&db, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let csv_text = table("csv");
    let mut lines = csv_text.lines();
    assert_eq!(lines.next(), Some("indicator,unit,unit_name,period,value,estimated,withheld,pulled"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows,
        [
            // Some communes of 2024 were split without known shares.
            ["HS_TIEP_NHAN", "51", "Tỉnh Quảng Ngãi", "202407", "63", "true", "0", "false"],
            ["HS_TIEP_NHAN", "23317", "Xã Ngọk Bay", "202407", "63", "false", "0", "false"],
        ],
        "{csv_text}"
    );
    for row in &rows {
        let args = ["data", "query", "--indicator", row[0], "--unit", row[1], "--period", row[3]];
        let q = ok_json(&db, &[&args[..], &["--structure-at", "2025-07-01", "--format", "json"]].concat());
        assert_eq!(q["value"].as_f64().unwrap().to_string(), row[4], "{q}");
        assert_eq!(q["estimated"].to_string(), row[5], "{q}");
    }
    // Only the provinces (level 1) of the whole country, or only the
    // communes (level 2) under Quảng Ngãi: each its one row of the table.
    let level = |extra: &[&str]| {
        let args = ["data", "export", "--structure-at", "2025-07-01", "--from", "202407", "--to", "202508"];
        let more = ["--indicator", "HS_TIEP_NHAN", "--format", "csv"];
        let out = baocao(&db, &[&args[..], extra, &more[..]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().skip(1).map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(level(&["--level", "1"]), [rows[0].join(",")]);
    assert_eq!(level(&["--org-unit", "51", "--children", "--level", "2"]), [rows[1].join(",")]);
    let json: Value = serde_json::from_str(&table("json")).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2, "{json}");
    assert_eq!((json[1]["unit"].as_str(), json[1]["value"].as_f64()), (Some("23317"), Some(63.0)), "{json}");
    // A unit of another day is named, not silently skipped.
    let out =
        baocao(&db, &["data", "export", "--structure-at", "2025-07-01", "--period", "202407", "--org-unit", "62"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("62"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn periods_show_decree_09_cutoffs() {
    let db = TestDb::new().await;
    let p = ok_json(
        &db,
        &["periods", "--periodicity", "monthly", "--from", "2025-07-01", "--to", "31/08/2025", "--format", "json"],
    );
    assert_eq!(p[0]["period"], "202507");
    assert_eq!(p[0]["cutoff_from"], "2025-06-15");
    assert_eq!(p[0]["cutoff_to"], "2025-07-14");
    assert_eq!(p[1]["label"], "Tháng 8/2025");
    let y = ok_json(
        &db,
        &["periods", "--periodicity", "yearly", "--from", "2025-01-01", "--to", "2025-12-31", "--format", "json"],
    );
    assert_eq!((y[0]["cutoff_from"].as_str(), y[0]["cutoff_to"].as_str()), (Some("2024-12-15"), Some("2025-12-14")));
}

#[tokio::test]
async fn a_bad_indicator_list_is_refused_whole() {
    let db = TestDb::new().await;
    let file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    std::fs::write(
        file.path(),
        "code,name,unit,value_type,aggregation,group,formula\nA,Chỉ tiêu A,hồ sơ,integer,sum,,\nB,Chỉ tiêu B,hồ sơ,float,sum,,\nC,Tỷ lệ,%,percent,formula,,{A} / {Z}\n",
    )
    .unwrap();
    let out = baocao(&db, &["indicators", "import", file.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dòng 3, cột `value_type`: kiểu giá trị «float»"), "{err}");
    assert!(err.contains("dòng 4, cột `formula`: công thức dùng «Z»"), "{err}");
    let list = ok_json(&db, &["indicators", "list", "--format", "json"]);
    assert!(list.as_array().unwrap().is_empty(), "nothing was imported");
}

/// Indicators, both versions of form BM01 and the monthly regime over
/// province 51, as the demo has them.
async fn with_regime() -> TestDb {
    let db = loaded().await;
    let demo = data_dir().join("demo");
    for args in [
        vec!["indicators", "import", demo.join("indicators.csv").to_str().unwrap()],
        vec!["forms", "import", demo.join("form-bm01-2024.toml").to_str().unwrap()],
        vec!["forms", "import", demo.join("form-bm01.toml").to_str().unwrap()],
    ] {
        let out = baocao(&db, &args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let regime = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    let text = std::fs::read_to_string(demo.join("regime-monthly.toml"))
        .unwrap()
        .replace("[units]", "[units]\nunder = \"51\"");
    std::fs::write(regime.path(), text).unwrap();
    let out = baocao(&db, &["regimes", "import", regime.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    db
}

fn report(db: &TestDb, action: &str, unit: &str, period: &str, extra: &[&str]) -> Output {
    let mut args =
        vec!["report", action, "--regime", "BC_THANG_TTHC", "--unit", unit, "--period", period, "--format", "json"];
    args.extend_from_slice(extra);
    // A submission is signed; the tests about signing say so themselves.
    if action == "submit" && !extra.contains(&"--signer") {
        args.extend_from_slice(&["--signer", "Lê Văn C", "--position", "Chủ tịch"]);
    }
    // Nobody approves their own submission: the leader decides, not the clerk.
    if action == "approve" && !extra.contains(&"--by") {
        args.extend_from_slice(&["--by", "cli-lanhdao"]);
    }
    baocao(db, &args)
}

#[tokio::test]
async fn a_report_from_draft_to_approval() {
    let db = with_regime().await;
    // A draft keeps values that break a rule, and says so in Vietnamese.
    let out = report(
        &db,
        "save",
        "23317",
        "202508",
        &[
            "--set",
            "HS_TIEP_NHAN=100",
            "--set",
            "HS_DUNG_HAN=120",
            "--plan",
            "HS_TIEP_NHAN=1.200",
            "--by",
            "Nguyễn Văn A",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let draft: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["deadline"], "2025-08-19");
    let finding = draft["findings"][0]["message"].as_str().unwrap();
    assert!(finding.contains("Số hồ sơ giải quyết đúng hạn") && finding.contains("Thực hiện kỳ này"), "{finding}");
    let row = draft["rows"].as_array().unwrap().iter().find(|r| r["indicator"] == "HS_TIEP_NHAN").unwrap().clone();
    assert_eq!(row["cells"]["year_plan"], 1200.0);

    // Errors block submission; nothing changes.
    let out = report(&db, "submit", "23317", "202508", &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Chưa thể gửi báo cáo"));
    // Approving a draft is not a transition the workflow allows.
    let out = report(&db, "approve", "23317", "202508", &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Không thể thực hiện «approve»"));

    // Fixed and sent, with a signature; returned with a reason; sent again; approved.
    let out = report(
        &db,
        "submit",
        "23317",
        "202508",
        &["--set", "HS_DUNG_HAN=95", "--signer", "Trần Thị B", "--position", "Chủ tịch UBND xã"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        report(&db, "return", "23317", "202508", &["--reason", "Kiểm tra lại số hồ sơ tiếp nhận", "--by", "Lê Văn C"]);
    let returned: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (returned["status"].as_str(), returned["returned_reason"].as_str()),
        (Some("returned"), Some("Kiểm tra lại số hồ sơ tiếp nhận"))
    );
    let again = ["--set", "HS_TIEP_NHAN=101", "--signer", "Trần Thị B", "--position", "Chủ tịch UBND xã"];
    assert!(report(&db, "submit", "23317", "202508", &again).status.success());
    let out = report(&db, "approve", "23317", "202508", &["--by", "Lê Văn C"]);
    let approved: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["signature"]["position"], "Chủ tịch UBND xã");
    let actions: Vec<&str> =
        approved["revisions"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["save", "submit", "return", "submit", "approve"]);

    // An approved report is locked, through the CLI and through DHIS2 imports.
    let out = report(&db, "save", "23317", "202508", &["--set", "HS_TIEP_NHAN=1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Đã duyệt"));
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(
        file.path(),
        r#"{"dataValues":[{"dataElement":"HS_TIEP_NHAN","period":"202508","orgUnit":"23317","value":"1"}]}"#,
    )
    .unwrap();
    let summary = ok_json_or_fail(&db, &["data", "import", file.path().to_str().unwrap()]);
    assert_eq!(summary["conflicts"][0]["errorCode"], "E7641");

    // Completeness: 96 units expected; this one sent (late, since the test runs after the deadline).
    let c = ok_json(&db, &["completeness", "--regime", "BC_THANG_TTHC", "--period", "202508", "--format", "json"]);
    assert_eq!((c["expected"].as_u64(), c["submitted"].as_u64(), c["approved"].as_u64()), (Some(96), Some(1), Some(1)));
    assert_eq!((c["late"].as_u64(), c["missing"].as_u64()), (Some(1), Some(95)));
}

#[tokio::test]
async fn reports_follow_the_structure_and_form_of_their_period() {
    let db = with_regime().await;
    // Xã Kroong ended on 30/06/2025: it reports for June, not for August.
    let out = report(&db, "save", "23314", "202506", &["--set", "HS_TIEP_NHAN=40"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let june: Value = serde_json::from_slice(&out.stdout).unwrap();
    // June uses the 2024 version of the form, without the fully-online row.
    assert!(!june["rows"].as_array().unwrap().iter().any(|r| r["indicator"] == "HS_TRUC_TUYEN_TOAN_TRINH"));
    let out = report(&db, "save", "23314", "202508", &["--set", "HS_TIEP_NHAN=1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("không có hiệu lực trong kỳ Tháng 8/2025"));
    // A unit outside the regime's province cannot report under it.
    let out = report(&db, "save", "00004", "202508", &["--set", "HS_TIEP_NHAN=1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("không thuộc diện báo cáo theo chế độ"));

    // Same period last year for the new Ngọk Bay comes from its three
    // predecessors' approved reports (a draft would not count).
    for (unit, value) in [("23314", "11"), ("23317", "22"), ("23320", "33")] {
        assert!(report(&db, "submit", unit, "202408", &["--set", &format!("HS_TIEP_NHAN={value}")]).status.success());
        assert!(report(&db, "approve", unit, "202408", &[]).status.success());
    }
    let out = report(&db, "save", "23317", "202508", &["--set", "HS_TIEP_NHAN=132"]);
    let view: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = view["rows"].as_array().unwrap().iter().find(|r| r["indicator"] == "HS_TIEP_NHAN").unwrap().clone();
    assert_eq!(row["cells"]["same_period_last_year"], 66.0);
    assert_eq!(row["cells"]["percent_of_same_period"], 200.0);
    assert_eq!(row["same_period_estimated"], false);
}

/// Runs and parses JSON even when the command reports failure (a summary
/// with status ERROR still prints).
fn ok_json_or_fail(db: &TestDb, args: &[&str]) -> Value {
    let out = baocao(db, args);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Kills the server when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_demo_starts_with_a_province_and_its_reports() {
    use std::io::BufRead;
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", &db.url, "serve", "--demo", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("CI", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split("serving on ").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_string))
        .expect("the server prints its URL");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let base = url.trim_end_matches('/').to_string();
    // Nothing is open without signing in; the demo accounts are printed.
    assert_eq!(client.get(format!("{base}/api/v1/indicators")).send().await.unwrap().status().as_u16(), 401);
    let printed: Vec<String> =
        lines.by_ref().map_while(Result::ok).take_while(|l| !l.trim().is_empty()).take(5).collect();
    assert!(printed.iter().any(|l| l.contains("quantri")), "{printed:?}");
    let res = client
        .post(format!("{base}/login"))
        .form(&[("username", "quantri"), ("password", "demo-baocao-2025")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let get = |path: &str| {
        let request = client.get(format!("{base}{path}")).header("cookie", &cookie);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let indicators = get("/api/v1/indicators").await;
    assert!(indicators.as_array().unwrap().len() >= 4);
    // Last year's value of a new commune comes from its predecessors.
    let v = get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=23317&period=202407&structure_at=2025-07-01").await;
    assert_eq!(v["sources"].as_array().unwrap().len(), 3);
    assert!(v["value"].as_f64().unwrap() > 0.0);
    // The previous month's reports are mostly in, some late, a few missing.
    let c = get("/api/v1/completeness?regime=BC_THANG_TTHC&period=202606").await;
    assert_eq!(c["expected"], 96);
    let text = |path: &str| {
        let request = client.get(format!("{base}{path}")).header("cookie", &cookie);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let page = text("/units").await;
    assert!(page.contains("Bản trình diễn") && page.contains("Quảng Ngãi"));
    // The departments report on their own regime, at each step of its two levels.
    let today = baocao_core::today_in_vietnam();
    let last_month = baocao_core::Period::ending_between(
        baocao_core::Periodicity::Monthly,
        today - chrono::Days::new(70),
        today + chrono::Days::new(31),
    )
    .into_iter()
    .rfind(|p| p.cutoff().1 <= today)
    .unwrap();
    let departments = get(&format!("/api/v1/completeness?regime=BC_SO_TTHC&period={last_month}")).await;
    assert_eq!(
        (departments["expected"].as_u64(), departments["submitted"].as_u64()),
        (Some(4), Some(3)),
        "{departments}"
    );
    // An ad-hoc request went to a few communes and two departments three
    // days ago; two answered.
    let requests = text("/requests").await;
    assert!(requests.contains("Báo cáo nhanh tình hình giải quyết") && requests.contains(">2/"), "{requests}");
    let sent = get("/api/v1/requests").await;
    let code = sent[0]["code"].as_str().unwrap();
    let (day, recipients) = (sent[0]["period"].as_str().unwrap(), sent[0]["recipients"].as_u64().unwrap());
    let c = get(&format!("/api/v1/completeness?regime={code}&period={day}")).await;
    let agencies = c["units"].as_array().unwrap().iter().filter(|u| u["code"].as_str().unwrap().contains('.')).count();
    assert_eq!((agencies, c["expected"].as_u64(), c["submitted"].as_u64()), (2, Some(recipients), Some(2)), "{c}");

    // The province went through the 2025 cutover: the old communes' last
    // reports are approved and read-only legacy, packaged with their
    // handover records and open on «Lưu trữ»; agencies and rosters are there.
    let c = get("/api/v1/completeness?regime=BC_THANG_TTHC&period=202506").await;
    assert!(c["expected"].as_u64().unwrap() > 200, "the old communes of both provinces: {c}");
    assert_eq!(c["approved"], c["expected"]);
    let old = text("/reports/BC_THANG_TTHC/23314/202506").await;
    assert!(
        old.contains("class=\"legacy\"") && old.contains("báo cáo là dữ liệu lưu trữ, chỉ xem"),
        "read-only legacy"
    );
    assert!(!old.contains("name=\"action\" value=\"save\""), "nothing to save on a dissolved unit's report");
    let key_dir = dir.path().join("baocao-demo-luu-tru/demo-51-2025");
    assert!(key_dir.join("23314/bagit.txt").exists() && key_dir.join("bien-ban-23314.html").exists());
    let archive = text("/archive").await;
    assert!(archive.contains("23314") && archive.contains("Xã Kroong"), "packages open on «Lưu trữ»");
    let agencies = text("/agencies?at=2025-06-30").await;
    assert!(agencies.contains("H51.C23314"), "the old commune's committee");
    let roster = text("/roster").await;
    assert!(roster.contains("H51.X23317") && roster.contains("@tinh-demo.gov.vn"), "officials with accounts");

    // Documents made from the demo's data say so, on paper and in Excel.
    let print = text("/reports/BC_THANG_TTHC/23314/202506/print").await;
    assert!(print.contains("class=\"demo-mark\""));
    // The document has its own stylesheet, served beside the application's.
    assert!(print.contains(r#"href="/static/document.css""#), "{print}");
    let xlsx = client
        .get(format!("{base}/api/v1/reports/xlsx?regime=BC_THANG_TTHC&unit=23314&period=202506"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut book = zip::ZipArchive::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(&mut book.by_name("xl/sharedStrings.xml").unwrap(), &mut strings).unwrap();
    assert!(strings.contains("BẢN TRÌNH DIỄN"), "the workbook is marked");

    // One counting rule: the comparison page, the values API and the output
    // form give the province the same figure for each month, and the page
    // marks as estimated exactly the months the API says are.
    let compare = text("/compare?indicator=HS_TIEP_NHAN&unit=51&months=6").await;
    let months = compare_rows(&compare);
    assert_eq!(months.len(), 6, "{compare}");
    for (label, shown, estimated) in months {
        let (month, year) = label.split_once('/').unwrap();
        let period = format!("{year}{month}");
        let api = get(&format!("/api/v1/values?indicator=HS_TIEP_NHAN&unit=51&period={period}")).await;
        assert_eq!(shown, api["value"].as_f64().unwrap_or(0.0).round(), "{label}: {api}");
        assert_eq!(estimated, api["estimated"] == true, "{label}: {api}");
        let th01 = get(&format!("/api/v1/output?form=TH01&unit=51&period={period}")).await;
        let row = th01["rows"].as_array().unwrap().iter().find(|r| r["code"] == "HS_TIEP_NHAN").unwrap();
        assert_eq!(shown, row["cells"][0].as_f64().unwrap_or(0.0).round(), "{label}: TH01 {th01}");
    }
}

/// The months of the comparison page: label (mm/yyyy), the figure as a
/// number, and whether it is marked as estimated.
fn compare_rows(html: &str) -> Vec<(String, f64, bool)> {
    html.split("<tr><td>")
        .skip(1)
        .filter_map(|row| {
            let (label, rest) = row.split_once("</td><td class=\"num\">")?;
            let (cell, _) = rest.split_once("</td>")?;
            // The figure is a link to its origin: its text only.
            let cell: String =
                cell.split('<').map(|part| part.split_once('>').map_or(part, |(_, text)| text)).collect();
            let looks_like_month = label.len() == 7 && label.as_bytes()[2] == b'/';
            looks_like_month.then(|| {
                let digits: String = cell.chars().filter(char::is_ascii_digit).collect();
                (label.to_string(), digits.parse().unwrap_or(0.0), cell.contains('*'))
            })
        })
        .collect()
}

#[tokio::test]
async fn computed_indicators_follow_their_formula() {
    let db = with_regime().await;
    let out =
        report(&db, "save", "23317", "202509", &["--set", "HS_TIEP_NHAN=200", "--set", "HS_TRUC_TUYEN_TOAN_TRINH=150"]);
    let view: Value = serde_json::from_slice(&out.stdout).unwrap();
    let share = view["rows"].as_array().unwrap().iter().find(|r| r["indicator"] == "TY_LE_TOAN_TRINH").unwrap().clone();
    assert_eq!(share["cells"]["this_period"], 75.0);
    // A computed row cannot be typed into.
    let out = report(&db, "save", "23317", "202509", &["--set", "TY_LE_TOAN_TRINH=80"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("được tính tự động"));
    // The province's share is computed from its totals, not averaged; from
    // approved reports (a draft counts nowhere but in itself).
    let query = ["data", "query", "--indicator", "TY_LE_TOAN_TRINH", "--unit", "51", "--period", "202509"];
    let q = ok_json(&db, &[&query[..], &["--format", "json"]].concat());
    assert_eq!(q["value"], Value::Null, "a draft does not count: {q}");
    assert!(report(&db, "submit", "23317", "202509", &[]).status.success());
    let q = ok_json(&db, &[&query[..], &["--include-submitted", "--format", "json"]].concat());
    assert_eq!(q["value"], 75.0, "submitted, when asked for");
    assert!(report(&db, "approve", "23317", "202509", &[]).status.success());
    let q = ok_json(&db, &[&query[..], &["--format", "json"]].concat());
    assert_eq!(q["value"], 75.0);
    assert_eq!(q["components"]["HS_TIEP_NHAN"], 200.0);
}

#[tokio::test]
async fn a_report_goes_out_and_back_as_a_spreadsheet() {
    let db = with_regime().await;
    assert!(
        report(&db, "save", "23317", "202510", &["--set", "HS_TIEP_NHAN=80", "--set", "HS_DUNG_HAN=70"])
            .status
            .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bm01.xlsx");
    let out = baocao(
        &db,
        &[
            "report",
            "xlsx",
            "--regime",
            "BC_THANG_TTHC",
            "--unit",
            "23317",
            "--period",
            "202510",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(&std::fs::read(&file).unwrap()[..2], b"PK", "an XLSX file is a zip archive");
    let out = baocao(
        &db,
        &[
            "report",
            "upload",
            file.to_str().unwrap(),
            "--submit",
            "--by",
            "Nguyễn Văn A",
            "--signer",
            "Nguyễn Văn A",
            "--position",
            "Chủ tịch",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let view: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["status"], "submitted");
    assert_eq!(view["revisions"].as_array().unwrap().last().unwrap()["actor"], "Nguyễn Văn A");
    // Once submitted, the workbook's entered cells are locked like the rest.
    let out = baocao(&db, &["report", "upload", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Đã gửi"));
}

#[tokio::test]
async fn output_forms_consolidate_approved_reports() {
    let db = with_regime().await;
    let demo = data_dir().join("demo");
    for form in ["form-th01.toml", "form-th02.toml"] {
        let out = baocao(&db, &["forms", "import", demo.join(form).to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // Two communes report; one is approved, the other only submitted.
    for (unit, received) in [("23317", "100"), ("23302", "50")] {
        let out = report(
            &db,
            "submit",
            unit,
            "202508",
            &["--set", &format!("HS_TIEP_NHAN={received}"), "--set", "HS_TRUC_TUYEN_TOAN_TRINH=25"],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(report(&db, "approve", "23317", "202508", &[]).status.success());
    let total = |extra: &[&str]| {
        let mut args = vec!["output", "--form", "TH01", "--unit", "51", "--period", "202508", "--format", "json"];
        args.extend_from_slice(extra);
        ok_json(&db, &args)
    };
    let approved = total(&[]);
    assert_eq!((approved["counted"].as_u64(), approved["expected"].as_u64()), (Some(1), Some(96)));
    let received = |v: &Value| {
        v["rows"].as_array().unwrap().iter().find(|r| r["code"] == "HS_TIEP_NHAN").unwrap()["cells"][0].clone()
    };
    assert_eq!(received(&approved), 100.0);
    let share = approved["rows"].as_array().unwrap().iter().find(|r| r["code"] == "TY_LE_TOAN_TRINH").unwrap()["cells"]
        [0]
    .clone();
    assert_eq!(share, 25.0);
    let submitted = total(&["--include-submitted"]);
    assert_eq!(received(&submitted), 150.0);

    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("th02.xlsx");
    let by_unit = ok_json(
        &db,
        &[
            "output",
            "--form",
            "TH02",
            "--unit",
            "51",
            "--period",
            "202508",
            "--include-submitted",
            "--xlsx",
            xlsx.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let rows = by_unit["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 96);
    let ngok_bay = rows.iter().find(|r| r["code"] == "23317").unwrap();
    assert_eq!((ngok_bay["cells"][0].as_f64(), ngok_bay["cells"][2].as_f64()), (Some(100.0), Some(25.0)));
    assert!(std::fs::metadata(&xlsx).unwrap().len() > 1000);
    // An input form is not an output form.
    let out = baocao(&db, &["output", "--form", "BM01", "--unit", "51", "--period", "202508"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("không phải là biểu đầu ra"));
}

#[tokio::test]
async fn forms_go_out_and_back_as_workbooks_and_toml() {
    let db = with_regime().await;
    let dir = tempfile::tempdir().unwrap();
    for name in ["bm01.xlsx", "bm01.toml"] {
        let file = dir.path().join(name);
        let out = baocao(&db, &["forms", "export", "BM01", "--at", "2025-08-01", "-o", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = baocao(&db, &["forms", "import", file.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let versions = ok_json(&db, &["forms", "show", "BM01"]);
    assert_eq!(versions.as_array().unwrap().len(), 2, "re-importing the same version replaces it");
    let out = baocao(
        &db,
        &["forms", "export", "BM01", "--at", "2020-01-01", "-o", dir.path().join("x.toml").to_str().unwrap()],
    );
    assert!(out.status.success(), "the 2024 version has no start: it is in force in 2020");
}

#[tokio::test]
async fn accounts_tokens_and_the_audit_log_from_the_command_line() {
    let db = loaded().await;
    let out = baocao(&db, &["users", "add", "an.nv", "--name", "Nguyễn Văn An"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("mật khẩu (chỉ hiện một lần)"), "{text}");
    let again = baocao(&db, &["users", "add", "an.nv", "--name", "Another"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("đã có người dùng"));
    // With an address, the account sets its own password from its activation mail.
    let out = baocao(&db, &["users", "add", "binh.tt", "--name", "Trần Thị Bình", "--email", "binh.tt@qn.gov.vn"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("liên kết kích hoạt được gửi thư tới binh.tt@qn.gov.vn"));
    let mailed = db.db.outbox(10).await.unwrap();
    assert_eq!((mailed[0].recipient.as_str(), mailed[0].template.as_str()), ("binh.tt@qn.gov.vn", "activation"));
    // A password typed in is checked as the pages check it.
    let weak = Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", &db.url, "users", "passwd", "an.nv", "--password-stdin"])
        .env("CI", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"aaaaaaaaaa\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(!weak.status.success() && String::from_utf8_lossy(&weak.stderr).contains("lặp lại"));

    let out = baocao(&db, &["users", "grant", "an.nv", "--role", "data_entry", "--unit", "23317"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = baocao(&db, &["users", "grant", "an.nv", "--role", "boss"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("system_admin"), "the error lists the roles");
    let bad = baocao(&db, &["users", "grant", "an.nv", "--role", "viewer", "--unit", "99999"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("99999"));

    let list = ok_json(&db, &["users", "list", "--format", "json"]);
    assert_eq!(list[0]["username"], "an.nv");
    assert_eq!(
        (list[0]["grants"][0]["role"].as_str(), list[0]["grants"][0]["unit"].as_str()),
        (Some("data_entry"), Some("23317"))
    );

    let out = baocao(&db, &["tokens", "create", "an.nv", "--name", "tích hợp", "--scope", "view_reports"]);
    let token = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().trim().to_string();
    assert_eq!(token.len(), 64);
    let tokens = ok_json(&db, &["tokens", "list", "--format", "json"]);
    assert_eq!(tokens[0]["scopes"], serde_json::json!(["view_reports"]));
    assert!(!tokens.to_string().contains(&token), "only the hash is kept");

    let records = ok_json(&db, &["audit", "list", "--format", "json"]);
    let actions: Vec<&str> = records.as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions[..3], ["token.create", "grant.add", "account.create"]);
    assert!(records[0]["actor"].as_str().unwrap().starts_with("cli:"));
    assert!(actions.contains(&"reorganization.apply"));
    let verdict = ok_json(&db, &["audit", "verify", "--format", "json"]);
    assert_eq!(verdict["problems"], serde_json::json!([]));
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test]
async fn officials_of_three_old_communes_move_into_the_new_one() {
    let db = loaded().await;
    let dir = tempfile::tempdir().unwrap();
    let header = "Mã định danh,Tên cơ quan,Loại,Mã đơn vị hành chính,Hiệu lực từ,Hiệu lực đến,Cơ quan kế thừa\n";
    let rows = "H01.01,UBND xã Kroong,UBND xã,23314,,01/07/2025,\n\
         H01.02,UBND xã Ngọk Bay,UBND xã,23317,,01/07/2025,\n\
         H01.03,UBND xã Vinh Quang,UBND xã,23320,,01/07/2025,\n\
         H51.01,UBND xã Ngọk Bay,UBND xã,23317,01/07/2025,,\n\
         H51.02,UBND xã Đăk Rơ Wa,UBND xã,23302,01/07/2025,,\n";
    // Kroong and Vinh Quang ended with the reform: their agencies need a successor.
    let unsettled = write(&dir, "co-quan-thieu.csv", &format!("{header}{rows}"));
    let out = baocao(&db, &["agencies", "import", &unsettled]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("2 lỗi") && err.contains("cơ quan H01.01") && err.contains("của đơn vị 23314"), "{err}");
    assert!(err.contains("cơ quan H01.03"), "{err}");
    assert_eq!(ok_json(&db, &["agencies", "list", "--at", "30/06/2025", "--format", "json"]), serde_json::json!([]));
    let agencies =
        write(&dir, "co-quan.csv", &format!("{header}{}", rows.replace(",01/07/2025,\n", ",01/07/2025,H51.01\n")));
    let out = baocao(&db, &["agencies", "import", &agencies]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lineage = ok_json(&db, &["agencies", "show", "H51.01", "--format", "json"]);
    let predecessors: Vec<&str> =
        lineage["predecessors"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(predecessors, ["H01.01", "H01.02", "H01.03"]);
    let header = "Mã cơ quan,Họ và tên,Ngày sinh,Giới tính,Chức vụ,Vị trí công tác,Email công vụ,Vai trò\n";
    let before = write(
        &dir,
        "ds-2025.csv",
        &format!(
            "{header}H01.01,Nguyễn Văn An,01/02/1980,Nam,Chủ tịch,Lãnh đạo,,baocao:approver\n\
             H01.02,Nguyễn Văn An,03/04/1985,Nam,Công chức,Văn phòng - Thống kê,,baocao:data_entry\n\
             H01.02,Trần Thị Bình,05/06/1990,Nữ,Công chức,Tư pháp - Hộ tịch,binhtt@qn.gov.vn,\n\
             H01.03,Lê Văn Cường,07/08/1975,Nam,Chủ tịch,Lãnh đạo,,\n"
        ),
    );
    assert!(baocao(&db, &["roster", "import", &before, "--from", "01/01/2025"]).status.success());
    // The new commune lists all four, one of them spelled without diacritics.
    let after = write(
        &dir,
        "ds-xa-moi.csv",
        &format!(
            "{header}H51.01,Nguyễn Văn An,01/02/1980,Nam,Phó Chủ tịch,Lãnh đạo,,baocao:approver; signature:individual\n\
             H51.01,Nguyen Van An,03/04/1985,Nam,Công chức,Văn phòng - Thống kê,,baocao:data_entry\n\
             H51.01,Trần Thị Bình,05/06/1990,Nữ,Công chức,Tư pháp - Hộ tịch,,\n\
             H51.01,Lê Văn Cường,07/08/1975,Nam,Chủ tịch,Lãnh đạo,,\n"
        ),
    );
    let out = baocao(&db, &["roster", "import", &after, "--from", "01/07/2025"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("0 người mới") && text.contains("4 điều chuyển"), "{text}");

    let on = |day: &str| ok_json(&db, &["roster", "list", "--at", day, "--format", "json"]);
    let old = on("30/06/2025");
    let agencies_then: std::collections::BTreeSet<&str> =
        old.as_array().unwrap().iter().map(|e| e["agency_code"].as_str().unwrap()).collect();
    assert_eq!(agencies_then.into_iter().collect::<Vec<_>>(), ["H01.01", "H01.02", "H01.03"]);
    let new = on("01/07/2025");
    assert_eq!(new.as_array().unwrap().len(), 4);
    assert!(new.as_array().unwrap().iter().all(|e| e["agency_code"] == "H51.01"));
    assert_eq!(new[0]["since"], "2025-07-01");

    // Two officials named Nguyễn Văn An: distinct addresses, by the shown rule.
    let plan = ok_json(
        &db,
        &["accounts", "plan", "--system", "email", "--at", "01/07/2025", "--domain", "qn.gov.vn", "--format", "json"],
    );
    let addresses: Vec<&str> =
        plan["accounts"].as_array().unwrap().iter().map(|a| a["address"].as_str().unwrap()).collect();
    for expected in ["annv@qn.gov.vn", "annv2@qn.gov.vn", "binhtt@qn.gov.vn", "cuonglv@qn.gov.vn"] {
        assert!(addresses.contains(&expected), "{expected} in {addresses:?}");
    }
    // As a workbook for the mail system: the same plan of the same day is the same file.
    let workbook = |name: &str| {
        let path = dir.path().join(name);
        let args = ["accounts", "plan", "--system", "email", "--at", "01/07/2025", "--domain", "qn.gov.vn", "-o"];
        let out = baocao(&db, &[&args[..], &[path.to_str().unwrap()]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read(path).unwrap()
    };
    let first = workbook("email-1.xlsx");
    assert!(first.starts_with(b"PK"), "an XLSX (zip) file");
    assert_eq!(first, workbook("email-2.xlsx"));
    let binh = plan["accounts"].as_array().unwrap().iter().find(|a| a["address"] == "binhtt@qn.gov.vn").unwrap();
    assert_eq!(binh["action"], "keep");
    assert!(plan["rule"].as_str().unwrap().contains("annv2"));

    // Reporting-system accounts follow the rosters: as of 01/01/2025 …
    let plan = |day: &str| {
        ok_json(
            &db,
            &["accounts", "plan", "--system", "baocao", "--at", day, "--domain", "qn.gov.vn", "--format", "json"],
        )
    };
    let apply = |day: &str| {
        let out = baocao(&db, &["accounts", "apply", "--system", "baocao", "--at", day, "--domain", "qn.gov.vn"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let first = plan("01/01/2025");
    let actions: Vec<&str> = first.as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "grant", "create", "grant"], "{first}");
    apply("01/01/2025");
    // … and at the reform the chairman of Kroong becomes vice-chairman of the new commune: his approval
    // moves from Kroong (23314) to Ngọk Bay (23317) and Kroong stays readable for 90 days.
    let reform = plan("01/07/2025");
    let steps: Vec<(&str, &str)> = reform
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["action"].as_str().unwrap(), s["username"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [("grant", "annv@qn.gov.vn"), ("end", "annv@qn.gov.vn"), ("read_only", "annv@qn.gov.vn")],
        "{reform}"
    );
    assert_eq!(reform[2]["until"], "2025-09-29");
    apply("01/07/2025");
    assert_eq!(plan("01/07/2025"), serde_json::json!([]), "applied: nothing left to do");
    let accounts = ok_json(&db, &["users", "list", "--format", "json"]);
    let an = accounts.as_array().unwrap().iter().find(|a| a["username"] == "annv@qn.gov.vn").unwrap();
    let grants: Vec<(&str, &str, Option<&str>)> = an["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["role"].as_str().unwrap(), g["unit"].as_str().unwrap(), g["valid_to"].as_str()))
        .collect();
    assert_eq!(
        grants,
        [
            ("approver", "23314", Some("2025-07-01")),
            ("approver", "23317", None),
            ("viewer", "23314", Some("2025-09-29"))
        ]
    );

    // Certificate requests: forms 01 and 02 as a workbook.
    let requests = dir.path().join("chung-thu.xlsx");
    let out = baocao(
        &db,
        &[
            "accounts",
            "plan",
            "--system",
            "signature",
            "--at",
            "01/07/2025",
            "--domain",
            "qn.gov.vn",
            "-o",
            requests.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 đề nghị cấp chứng thư cá nhân và 2 chứng thư tổ chức"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(&requests).unwrap().len() > 0);

    // The template lists the agencies in force and reads back as an (empty) roster.
    let template = dir.path().join("mau.xlsx");
    assert!(
        baocao(&db, &["roster", "template", "-o", template.to_str().unwrap(), "--at", "01/07/2025"]).status.success()
    );
    let out = baocao(&db, &["roster", "import", template.to_str().unwrap(), "--from", "01/09/2025"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 người trong danh sách"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A roster naming an agency that does not exist, or a person twice, is refused whole.
    let bad = write(
        &dir,
        "sai.csv",
        &format!(
            "{header}H99.99,Phạm Văn Dũng,01/01/1970,Nam,Chủ tịch,Lãnh đạo,,\nH51.01,Le Van Cuong,07/08/1975,Nam,Công chức,Địa chính,,\nH51.01,Lê Văn Cường,07/08/1975,Nam,Chủ tịch,Lãnh đạo,,\n"
        ),
    );
    let out = baocao(&db, &["roster", "import", &bad, "--from", "01/08/2025"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("dòng 2: không có cơ quan «H99.99»") && err.contains("dòng 4: Lê Văn Cường"), "{err}");
    assert_eq!(on("01/08/2025").as_array().unwrap().len(), 4, "nothing changed");

    // An account closed by hand that the rosters still ask for is opened again.
    assert!(baocao(&db, &["users", "close", "annv@qn.gov.vn"]).status.success());
    let steps = plan("01/08/2025");
    assert_eq!((steps[0]["action"].as_str(), steps.as_array().unwrap().len()), (Some("open"), 1), "{steps}");
    apply("01/08/2025");
    let accounts = ok_json(&db, &["users", "list", "--format", "json"]);
    assert_eq!(
        accounts.as_array().unwrap().iter().find(|a| a["username"] == "annv@qn.gov.vn").unwrap()["active"],
        true
    );

    // A later merge dissolves Đăk Rơ Wa (23302): refused, dry run included,
    // until its agency is given a successor or an archive decision.
    let merge = write(
        &dir,
        "nhap.toml",
        "key = \"2026-merge\"\nname = \"Nhập xã\"\neffective_date = \"2026-01-01\"\n\n[[changes]]\nchange = \"merge\"\n\
         codes = [\"23317\", \"23302\"]\ninto = { code = \"23317\", name = \"Xã Ngọk Bay\", kind = \"xã\", parent_code = \"51\" }\n",
    );
    for dry in [true, false] {
        let mut args = vec!["registry", "apply", merge.as_str()];
        if dry {
            args.push("--dry-run");
        }
        let out = baocao(&db, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.contains(
                "23302: cơ quan H51.02 (UBND xã Đăk Rơ Wa) của đơn vị 23302, đơn vị này chấm dứt ngày 01/01/2026"
            ),
            "{err}"
        );
    }
    let settled = write(
        &dir,
        "co-quan-2026.csv",
        "Mã định danh,Tên cơ quan,Loại,Mã đơn vị hành chính,Hiệu lực từ,Hiệu lực đến,Quyết định lưu trữ\n\
         H51.02,UBND xã Đăk Rơ Wa,UBND xã,23302,01/07/2025,01/01/2026,QĐ 45/QĐ-UBND: hồ sơ giao Lưu trữ lịch sử tỉnh\n",
    );
    assert!(baocao(&db, &["agencies", "import", &settled]).status.success());
    let out = baocao(&db, &["registry", "apply", &merge]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Report actions that must all succeed: (action, unit, period, arguments).
fn reports(db: &TestDb, steps: &[(&str, &str, &str, [&str; 2])]) {
    for (action, unit, period, extra) in steps {
        let out = report(db, action, unit, period, extra);
        assert!(out.status.success(), "{action} {unit} {period}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A province ready for a cutover on 01/01/2026 that merges Đăk Rơ Wa
/// (23302) into Ngọk Bay (23317): reports of both, the agency of 23302 with
/// its successor, an official moving with it, a new form version and the
/// regime reassigned. Returns the database, the directory and the plan.
async fn cutover_scenario() -> (TestDb, tempfile::TempDir, String) {
    let db = with_regime().await;
    let dir = tempfile::tempdir().unwrap();
    reports(
        &db,
        &[
            ("submit", "23302", "202511", ["--set", "HS_TIEP_NHAN=7"]),
            ("approve", "23302", "202511", ["--by", "Lê Văn C"]),
            ("save", "23302", "202512", ["--set", "HS_TIEP_NHAN=9"]),
            ("save", "23317", "202512", ["--set", "HS_TIEP_NHAN=9"]),
        ],
    );
    let agencies = write(
        &dir,
        "co-quan.csv",
        "Mã định danh,Tên cơ quan,Loại,Mã đơn vị hành chính,Hiệu lực từ,Hiệu lực đến,Cơ quan kế thừa\n\
         H51.01,UBND xã Ngọk Bay,UBND xã,23317,01/07/2025,,\n\
         H51.02,UBND xã Đăk Rơ Wa,UBND xã,23302,01/07/2025,01/01/2026,H51.01\n",
    );
    assert!(baocao(&db, &["agencies", "import", &agencies]).status.success());
    let header = "Mã cơ quan,Họ và tên,Ngày sinh,Giới tính,Chức vụ,Vị trí công tác,Vai trò\n";
    let before = write(
        &dir,
        "ds-1.csv",
        &format!("{header}H51.02,Y Sương,02/02/1990,Nữ,Công chức,Văn phòng - Thống kê,baocao:data_entry\n"),
    );
    assert!(baocao(&db, &["roster", "import", &before, "--from", "01/07/2025"]).status.success());
    let out = baocao(&db, &["accounts", "apply", "--system", "baocao", "--at", "01/07/2025", "--domain", "qn.gov.vn"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = write(
        &dir,
        "ds-2.csv",
        &format!("{header}H51.01,Y Sương,02/02/1990,Nữ,Công chức,Văn phòng - Thống kê,baocao:data_entry\n"),
    );
    assert!(baocao(&db, &["roster", "import", &after, "--from", "01/01/2026"]).status.success());

    write(
        &dir,
        "nhap-xa.toml",
        "key = \"2026-nhap-xa\"\nname = \"Nhập xã Đăk Rơ Wa vào xã Ngọk Bay\"\neffective_date = \"2026-01-01\"\n\
         legal_basis = \"Nghị quyết số 99/NQ-UBTVQH15\"\n\n[[changes]]\nchange = \"merge\"\ncodes = [\"23317\", \"23302\"]\n\
         into = { code = \"23317\", name = \"Xã Ngọk Bay\", kind = \"xã\", parent_code = \"51\" }\n",
    );
    let form = std::fs::read_to_string(data_dir().join("demo/form-bm01.toml"))
        .unwrap()
        .replace("valid_from = \"2025-07-01\"", "valid_from = \"2026-01-01\"");
    write(&dir, "bm01-2026.toml", &form);
    let regime = std::fs::read_to_string(data_dir().join("demo/regime-monthly.toml"))
        .unwrap()
        .replace("[units]", "[units]\nunder = \"51\"");
    write(&dir, "regime.toml", &regime);
    let plan = write(
        &dir,
        "chuyen-doi.toml",
        "key = \"qn-2026\"\nname = \"Chuyển đổi sau nhập xã\"\neffective_date = \"01/01/2026\"\nscope = \"51\"\n\
         source_organization = \"Văn phòng UBND tỉnh Quảng Ngãi\"\nreorganization_file = \"nhap-xa.toml\"\n\
         forms = [\"bm01-2026.toml\"]\nregimes = [\"regime.toml\"]\n\n[accounts]\ndomain = \"qn.gov.vn\"\n",
    );
    (db, dir, plan)
}

#[tokio::test]
async fn a_scheduled_cutover_is_applied_by_the_server_and_its_administrators_told() {
    let (db, _dir, plan) = cutover_scenario().await;
    assert!(
        baocao(&db, &["users", "add", "root", "--name", "Quản trị hệ thống", "--email", "root@qn.gov.vn"])
            .status
            .success()
    );
    assert!(baocao(&db, &["users", "grant", "root", "--role", "system_admin"]).status.success());
    let out = baocao(&db, &["cutover", "schedule", &plan]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("đã lên lịch lúc 00:00 ngày 01/01/2026"));
    let scheduled = db.db.scheduled_cutovers().await.unwrap();
    assert_eq!((scheduled[0].key.as_str(), scheduled[0].state.as_str()), ("qn-2026", "scheduled"));

    // Its day has come (it was in the past): the server's job applies it.
    let _server = common::Process::serve(&db.url).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while db.db.jobs().await.unwrap().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "the server never registered its jobs");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    db.db.run_job_now("test", "cutovers").await.unwrap();
    let run = loop {
        let runs = db.db.job_runs(10).await.unwrap();
        if let Some(run) = runs.into_iter().find(|r| r.job == "cutovers" && r.outcome != "running") {
            break run;
        }
        assert!(std::time::Instant::now() < deadline, "the cutover job never ended");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(run.outcome, "succeeded", "{run:?}");
    assert!(run.detail.as_deref().unwrap().contains("«qn-2026»: thực hiện xong"), "{run:?}");
    let scheduled = db.db.scheduled_cutovers().await.unwrap();
    assert_eq!(scheduled[0].state, "applied", "{scheduled:?}");
    assert!(baocao(&db, &["registry", "show", "23302", "--at", "2026-01-01"]).status.code() != Some(0), "applied");
    let audit = ok_json(&db, &["audit", "list", "--action", "cutover.apply", "--format", "json"]);
    assert!(audit.to_string().contains("\"scheduler\""), "applied by the scheduler: {audit}");
    // The system administrator is told, in the inbox and by mail.
    let root = db.db.account("root").await.unwrap().unwrap();
    let told = db.db.inbox(root.id, 10).await.unwrap();
    assert!(told.iter().any(|n| n.title == "Thực hiện chuyển đổi «Chuyển đổi sau nhập xã»: thành công"), "{told:?}");
    assert!(db.db.outbox(10).await.unwrap().iter().any(|m| m.recipient == "root@qn.gov.vn" && m.template == "notice"));
    // Applied, it can be neither scheduled again nor taken off.
    assert!(!baocao(&db, &["cutover", "unschedule", "qn-2026"]).status.success());
}

#[tokio::test]
async fn a_cutover_is_checked_rehearsed_applied_packaged_verified_and_rolled_back() {
    let (db, dir, plan) = cutover_scenario().await;
    assert_eq!(ok_json(&db, &["cutover", "check", &plan, "--format", "json"])["problems"], serde_json::json!([]));

    let dry = ok_json(&db, &["cutover", "dry-run", &plan, "--format", "json"]);
    let s = &dry["summary"];
    assert_eq!((s["units_closed"].as_u64(), s["units_opened"].as_u64()), (Some(2), Some(1)), "{dry}");
    let dissolved: Vec<&str> = s["dissolved"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(dissolved, ["23302", "23317"], "a merger ends both old units, whichever code goes on");
    assert_eq!(s["open_reports"].as_array().unwrap().len(), 2, "the drafts of December 2025: {s}");
    assert_eq!(s["open_reports"][0]["status"], "draft");
    assert_eq!(s["agencies_ending"][0]["successors"], serde_json::json!(["H51.01"]));
    assert_eq!((s["forms_started"][0].as_str(), s["forms_ended"][0].as_str()), (Some("BM01"), Some("BM01")));
    assert_eq!(s["account_steps"], serde_json::json!({ "end": 1, "grant": 1, "read_only": 1 }));
    let unchanged = ok_json(&db, &["registry", "show", "23302", "--at", "2026-01-01", "--format", "json"]);
    assert_eq!(unchanged["code"], "23302", "a dry run changes nothing");

    // The approved report of November was signed: its signature goes into the package.
    while let Some(unsigned) = db.db.unsigned_report().await.unwrap() {
        let signed = unsigned.content.map(|c| c.canonical());
        let parts = signed.as_deref().map(|content| baocao_store::signatures::Signed {
            content,
            signature: b"p7s",
            signer: "UBND",
            pdf: Some(b"%PDF-1.7 signed"),
        });
        db.db.record_signature(unsigned.id, parts, chrono::Utc::now()).await.unwrap();
    }
    let applied = ok_json(&db, &["cutover", "apply", &plan, "--format", "json"]);
    assert_eq!((applied["changed"].as_bool(), applied["packages_made"].as_u64()), (Some(true), Some(2)), "{applied}");
    assert!(std::path::Path::new(applied["backup"].as_str().unwrap()).exists());
    let again = ok_json(&db, &["cutover", "apply", &plan, "--format", "json"]);
    assert_eq!((again["changed"].as_bool(), again["packages_made"].as_u64()), (Some(false), Some(0)));
    let out = baocao(&db, &["cutover", "verify", "qn-2026"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(baocao(&db, &["registry", "show", "23302", "--at", "2026-01-01"]).status.code() != Some(0));

    // The packages: valid bags with the reports, their revisions and the handover record.
    let bags = dir.path().join("luu-tru/qn-2026");
    let out = baocao(&db, &["archive", "verify", bags.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bag = bags.join("23302");
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    for field in [
        "Source-Organization: Văn phòng UBND tỉnh Quảng Ngãi",
        "External-Identifier: 23302",
        "Unit-Valid-To: 2026-01-01",
        "Payload-Oxum: ",
    ] {
        assert!(info.contains(field), "{field} in {info}");
    }
    let draft: Value =
        serde_json::from_slice(&std::fs::read(bag.join("data/bao-cao/BC_THANG_TTHC-202512.json")).unwrap()).unwrap();
    assert_eq!(draft["status"], "draft");
    let approved: Value =
        serde_json::from_slice(&std::fs::read(bag.join("data/bao-cao/BC_THANG_TTHC-202511.json")).unwrap()).unwrap();
    assert_eq!((approved["status"].as_str(), approved["revisions"].as_array().unwrap().len()), (Some("approved"), 2));
    assert!(bag.join("data/bao-cao/BC_THANG_TTHC-202511.xlsx").exists());
    let printed = std::fs::read_to_string(bag.join("data/bao-cao/BC_THANG_TTHC-202511.html")).unwrap();
    assert!(printed.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") && printed.contains("<style>"));
    let signed: Value =
        serde_json::from_slice(&std::fs::read(bag.join("data/bao-cao/BC_THANG_TTHC-202511.signed.json")).unwrap())
            .unwrap();
    assert_eq!((signed["unit"].as_str(), signed["period"].as_str()), (Some("23302"), Some("202511")), "{signed}");
    assert_eq!(std::fs::read(bag.join("data/bao-cao/BC_THANG_TTHC-202511.p7s")).unwrap(), b"p7s");
    assert_eq!(std::fs::read(bag.join("data/bao-cao/BC_THANG_TTHC-202511.signed.pdf")).unwrap(), b"%PDF-1.7 signed");
    assert!(!bag.join("data/bao-cao/BC_THANG_TTHC-202512.p7s").exists(), "a draft is not signed");
    let handover = std::fs::read_to_string(bag.join("data/bien-ban-ban-giao.html")).unwrap();
    assert!(
        handover.contains("BIÊN BẢN")
            && handover.contains("Xã Ngọk Bay (23317)")
            && handover.contains("Nghị quyết số 99/NQ-UBTVQH15")
    );
    let roster = std::fs::read_to_string(bag.join("data/danh-sach-can-bo.csv")).unwrap();
    assert!(
        roster.contains("Y Sương") && !roster.contains("1990"),
        "who worked there, not their birth dates: {roster}"
    );

    // Legacy: the dissolved units' reports are read-only now.
    let out = report(&db, "save", "23302", "202512", &["--set", "HS_TIEP_NHAN=1"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dữ liệu lưu trữ, chỉ xem"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The bags load into a fresh instance, read-only, checked on the way in.
    let fresh = TestDb::new().await;
    let out = baocao(&fresh, &["archive", "load", bags.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Đã nạp 2 gói lưu trữ"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loaded = fresh.db.packages().await.unwrap();
    assert_eq!((loaded[0].unit_code.as_str(), loaded[0].group_key.as_str()), ("23302", "qn-2026"));
    let files = fresh.db.package_files(loaded[0].id).await.unwrap();
    assert!(files.iter().any(|f| f.0 == "data/bao-cao/BC_THANG_TTHC-202511.html"));

    // A damaged bag is caught.
    std::fs::write(bag.join("data/so-lieu.csv"), "changed").unwrap();
    let out = baocao(&db, &["cutover", "verify", "qn-2026"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("data/so-lieu.csv: checksum does not match"));

    // Rollback restores the state before, and the cutover can be applied again.
    let out = baocao(&db, &["cutover", "rollback", "qn-2026"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(ok_json(&db, &["registry", "show", "23302", "--at", "2026-01-01", "--format", "json"])["code"], "23302");
    assert!(report(&db, "save", "23302", "202512", &["--set", "HS_TIEP_NHAN=10"]).status.success());
    let forms = ok_json(&db, &["forms", "show", "BM01"]);
    let bm01: Vec<&Value> = forms.as_array().unwrap().iter().collect();
    assert_eq!(bm01.len(), 2, "the 2026 version is gone: {forms}");
    assert!(bm01.iter().any(|f| f["valid_from"] == "2025-07-01" && f["valid_to"].is_null()));
    let accounts = ok_json(&db, &["users", "list", "--format", "json"]);
    let grants = &accounts.as_array().unwrap().iter().find(|a| a["username"] == "suongy@qn.gov.vn").unwrap()["grants"];
    let open: Vec<(&str, &str)> = grants
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["valid_to"].is_null())
        .map(|g| (g["role"].as_str().unwrap(), g["unit"].as_str().unwrap()))
        .collect();
    assert_eq!(open, [("data_entry", "23302")], "{grants}");
    std::fs::remove_dir_all(&bags).unwrap();
    assert!(ok_json(&db, &["cutover", "apply", &plan, "--format", "json"])["changed"].as_bool().unwrap());
    // Once new data depends on it, it stays.
    assert!(report(&db, "save", "23317", "202601", &["--set", "HS_TIEP_NHAN=3"]).status.success());
    let out = baocao(&db, &["cutover", "rollback", "qn-2026"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("đã có dữ liệu mới dựa trên nó"));
    let actions = ok_json(&db, &["audit", "list", "--format", "json"]);
    let actions: Vec<&str> = actions.as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"cutover.apply") && actions.contains(&"cutover.rollback"));
}

#[tokio::test]
async fn a_cutover_plan_with_problems_is_refused_with_all_of_them() {
    let (db, dir, plan) = cutover_scenario().await;
    // The agency of Đăk Rơ Wa without its successor, a form starting on the
    // wrong day and a regime over a unit the merger ends.
    let agencies = write(
        &dir,
        "co-quan-sai.csv",
        "Mã định danh,Tên cơ quan,Loại,Mã đơn vị hành chính,Hiệu lực từ,Hiệu lực đến\nH51.02,UBND xã Đăk Rơ Wa,UBND xã,23302,01/07/2025,\n",
    );
    assert!(baocao(&db, &["agencies", "import", &agencies]).status.success());
    let form = std::fs::read_to_string(dir.path().join("bm01-2026.toml")).unwrap().replace("2026-01-01", "2026-02-01");
    write(&dir, "bm01-2026.toml", &form);
    let regime = std::fs::read_to_string(dir.path().join("regime.toml"))
        .unwrap()
        .replace("under = \"51\"", "under = \"51\"\ncodes = [\"23302\"]");
    write(&dir, "regime.toml", &regime);
    for command in ["check", "dry-run", "apply"] {
        let out = baocao(&db, &["cutover", command, &plan]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.contains("cơ quan H51.02")
                && err.contains(
                    "biểu mẫu BM01: phiên bản bắt đầu cùng đợt chuyển đổi phải có hiệu lực từ ngày 01/01/2026"
                ),
            "{err}"
        );
    }
    let out = baocao(&db, &["cutover", "check", &plan]);
    let err = String::from_utf8_lossy(&out.stderr);
    // The merger is checked first: the agency gate stops it before the rest is looked at.
    assert!(err.contains("lỗi:"), "{err}");
    assert!(db.db.cutover("qn-2026").await.unwrap().is_none(), "nothing applied");
}

/// Whether the cutover of [`cutover_scenario`] is in the database, checked
/// part by part: all of its parts or none of them.
async fn cutover_state(db: &TestDb) -> Option<bool> {
    let day = baocao_core::parse_date("2026-01-01").unwrap();
    let recorded = db.db.cutover("qn-2026").await.unwrap().is_some();
    let merged = db.db.load_registry().await.unwrap().in_force("23302", day).is_none();
    let form = db.db.form_versions("BM01").await.unwrap().iter().any(|f| f.valid_from == Some(day));
    let accounts = db.db.accounts().await.unwrap();
    let granted = accounts.iter().any(|a| a.grants.iter().any(|g| g.grant.unit.as_deref() == Some("23317")));
    let parts = [recorded, merged, form, granted];
    parts.iter().all(|p| *p == recorded).then_some(recorded)
}

#[tokio::test]
async fn a_cutover_killed_at_any_point_leaves_before_or_after_and_a_rerun_completes_it() {
    let (db, _dir, plan) = cutover_scenario().await;
    let apply = || {
        Command::new(env!("CARGO_BIN_EXE_baocao"))
            .args(["--db", &db.url, "cutover", "apply", &plan])
            .env("CI", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut kills = 0;
    let mut seen = [false, false];
    // Kill points from the start on, closer together early (start-up,
    // checks, backup, the transaction) than late (packaging).
    let mut delay = 0u64;
    loop {
        let mut child = apply();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let finished = child.try_wait().unwrap().is_some_and(|s| s.success());
        child.kill().ok();
        child.wait().unwrap();
        let state = cutover_state(&db).await;
        assert!(state.is_some(), "killed after {delay} ms: the cutover is half applied");
        seen[usize::from(state.unwrap())] = true;
        if finished {
            break;
        }
        kills += 1;
        delay += 10 + delay / 5;
        assert!(delay < 60_000, "apply never finished");
    }
    assert!(kills > 5 && seen == [true, true], "kills landed before and after the commit: {kills} kills, {seen:?}");
    let out = baocao(&db, &["cutover", "apply", &plan]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = baocao(&db, &["cutover", "verify", "qn-2026"]);
    assert!(out.status.success(), "a rerun completes it: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn a_package_written_but_not_recorded_is_recorded_by_a_rerun() {
    let (db, _dir, plan) = cutover_scenario().await;
    let out = baocao(&db, &["cutover", "apply", &plan]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // As a run stopped after writing the package and before recording it leaves it.
    db.db.set_package("qn-2026", "23302", "").await.unwrap();
    assert!(!baocao(&db, &["cutover", "verify", "qn-2026"]).status.success());
    let out = baocao(&db, &["cutover", "apply", &plan]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("gói lưu trữ: 0 gói mới"), "the valid package is kept");
    let out = baocao(&db, &["cutover", "verify", "qn-2026"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn a_missing_or_cut_handover_record_is_written_again_and_verify_checks_it() {
    let (db, dir, plan) = cutover_scenario().await;
    let out = baocao(&db, &["cutover", "apply", &plan]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let beside = dir.path().join("luu-tru/qn-2026/bien-ban-23302.html");
    let whole = std::fs::read(&beside).unwrap();
    for damage in ["cut short", "missing"] {
        match damage {
            "missing" => std::fs::remove_file(&beside).unwrap(),
            _ => std::fs::write(&beside, &whole[..whole.len() / 2]).unwrap(),
        }
        let out = baocao(&db, &["cutover", "verify", "qn-2026"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("biên bản bàn giao của 23302"), "{damage}: {err}");
        let out = baocao(&db, &["cutover", "apply", &plan]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(std::fs::read(&beside).unwrap(), whole, "{damage}: written again from the bag's copy");
        assert!(baocao(&db, &["cutover", "verify", "qn-2026"]).status.success(), "{damage}");
    }
}

#[tokio::test]
async fn one_cutover_at_a_time_per_database() {
    let (db, _dir, plan) = cutover_scenario().await;
    // Another process holds the cutover's turn (as a run under way does).
    let held = db.db.exclusive("cutover").await.unwrap();
    let out = baocao(&db, &["cutover", "apply", &plan]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("another «cutover» is running"), "{err}");
    assert!(db.db.cutover("qn-2026").await.unwrap().is_none(), "nothing applied meanwhile");
    held.release().await.unwrap();
    let out = baocao(&db, &["cutover", "apply", &plan]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn backups_are_whole_or_absent_and_never_clash() {
    let (db, dir, plan) = cutover_scenario().await;
    let backups = dir.path().join("sao-luu");
    std::fs::create_dir_all(&backups).unwrap();
    // What a backup killed halfway leaves: cleared by the next run.
    let leftover = backups.join(".qn-2026-20260101T000000Z.sqlite.partial");
    std::fs::write(&leftover, "half a backup").unwrap();
    let first = ok_json(&db, &["cutover", "apply", &plan, "--format", "json"]);
    assert!(!leftover.exists());
    // Rolled back and applied again within the same second: two backups.
    assert!(baocao(&db, &["cutover", "rollback", "qn-2026"]).status.success());
    let second = ok_json(&db, &["cutover", "apply", &plan, "--format", "json"]);
    let (a, b) = (first["backup"].as_str().unwrap(), second["backup"].as_str().unwrap());
    assert_ne!(a, b);
    for path in [a, b] {
        let path = std::path::Path::new(path);
        assert!(path.exists(), "{}", path.display());
        if db.url.starts_with("sqlite:") {
            baocao_store::Db::check_sqlite_file(path).await.unwrap();
        }
    }
    let names: Vec<String> =
        std::fs::read_dir(&backups).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
}

#[tokio::test]
async fn a_backup_cut_short_by_a_full_disk_leaves_nothing_that_looks_like_one() {
    let Some(disk) = common::SmallDisk::mount(1) else { return };
    let (db, dir, plan) = cutover_scenario().await;
    let text = std::fs::read_to_string(&plan).unwrap();
    let moved = format!("backup_dir = \"{}\"\n{text}", disk.path().display());
    std::fs::write(&plan, moved).unwrap();
    disk.fill();
    let out = baocao(&db, &["cutover", "apply", &plan]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("sao lưu thất bại; không có gì thay đổi"), "{err}");
    let left: Vec<String> = std::fs::read_dir(disk.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "filler")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(db.db.cutover("qn-2026").await.unwrap().is_none(), "nothing applied");
    drop(dir);
}

#[tokio::test]
async fn output_piped_into_a_reader_that_stops_early_ends_quietly() {
    use std::io::BufRead;
    let db = loaded().await;
    for format in ["csv", "table", "json"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_baocao"))
            .args(["--db", &db.url, "registry", "units", "--at", "2025-07-01", "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -1`: one line read, then the pipe closed.
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && err.is_empty(), "{format}: {} {err}", out.status);
    }
}

#[tokio::test]
async fn a_plans_tasks_and_targets_are_followed_up() {
    let db = with_regime().await;
    let dir = tempfile::tempdir().unwrap();
    let table = write(
        &dir,
        "nhiem-vu.csv",
        "TT,Tên nhiệm vụ,Đơn vị chủ trì,Đơn vị phối hợp,Thời hạn hoàn thành,Sản phẩm chính\n\
         1,Thiết lập biểu đầu vào đầu ra cho xã mới,Trung tâm Phục vụ hành chính công,VNPT,Trước ngày 25/6/2025,Danh mục biểu mẫu\n\
         2,Cấp tài khoản cho cán bộ xã mới,Sở Nội vụ,UBND các xã,30/06/2025,Tài khoản được kích hoạt\n\
         3,Báo cáo kết quả chuyển đổi,Văn phòng UBND tỉnh,,31/12/2099,Báo cáo\n",
    );
    let out = baocao(&db, &["tasks", "import", &table, "--plan", "KH 123/KH-VP"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = baocao(
        &db,
        &[
            "tasks",
            "update",
            "--plan",
            "KH 123/KH-VP",
            "1",
            "--status",
            "đã hoàn thành",
            "--done-on",
            "24/06/2025",
            "--evidence",
            "Công văn 45/TTPV",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let late = ok_json(&db, &["tasks", "list", "--late", "--at", "01/07/2025", "--format", "json"]);
    let numbers: Vec<&str> = late.as_array().unwrap().iter().map(|t| t["task"]["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["2"], "done on time, late, not due yet: {late}");
    let all = ok_json(&db, &["tasks", "list", "--at", "01/07/2025", "--format", "json"]);
    assert_eq!(all[0]["timeliness"], "done_on_time");
    assert_eq!(all[0]["task"]["evidence"], "Công văn 45/TTPV");

    // The share of dossiers fully online in the province, from the approved reports.
    for (unit, received, online) in [("23317", "100", "70"), ("23527", "100", "40")] {
        let values = [format!("HS_TIEP_NHAN={received}"), format!("HS_TRUC_TUYEN_TOAN_TRINH={online}")];
        let out = report(&db, "submit", unit, "202508", &["--set", &values[0], "--set", &values[1]]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(report(&db, "approve", unit, "202508", &[]).status.success());
    }
    let targets = write(
        &dir,
        "chi-tieu.toml",
        "[[targets]]\ncode = \"TT_TOAN_TRINH\"\nplan = \"KH 123/KH-VP\"\nname = \"Tỷ lệ hồ sơ trực tuyến toàn trình\"\n\
         indicator = \"HS_TRUC_TUYEN_TOAN_TRINH\"\nof = \"HS_TIEP_NHAN\"\nunit = \"51\"\ngoal = 60.0\ndeadline = \"2025-12-31\"\n",
    );
    assert!(baocao(&db, &["targets", "import", &targets]).status.success());
    let progress = ok_json(&db, &["targets", "progress", "--period", "202508", "--format", "json"]);
    assert_eq!(
        (progress[0]["value"].as_f64(), progress[0]["reached"].as_bool()),
        (Some(55.0), Some(false)),
        "{progress}"
    );
    let none = ok_json(&db, &["targets", "progress", "--period", "202501", "--format", "json"]);
    assert!(none[0]["value"].is_null(), "nothing reported is not zero: {none}");

    // The year so far (lũy kế): the sums of the months, then their share;
    // a ceiling is reached at or under its goal.
    let values = ["HS_TIEP_NHAN=100", "HS_TRUC_TUYEN_TOAN_TRINH=90"];
    let out = report(&db, "submit", "23317", "202509", &["--set", values[0], "--set", values[1]]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(report(&db, "approve", "23317", "202509", &[]).status.success());
    let more = write(
        &dir,
        "luy-ke.toml",
        "[[targets]]\ncode = \"TT_LUY_KE\"\nplan = \"KH 123/KH-VP\"\nname = \"Lũy kế\"\n\
         indicator = \"HS_TRUC_TUYEN_TOAN_TRINH\"\nof = \"HS_TIEP_NHAN\"\nunit = \"51\"\ngoal = 60.0\n\
         measure = \"year_to_date\"\ndeadline = \"2025-12-31\"\n\
         [[targets]]\ncode = \"TT_TOI_DA\"\nplan = \"KH 123/KH-VP\"\nname = \"Trần\"\n\
         indicator = \"HS_TRUC_TUYEN_TOAN_TRINH\"\nof = \"HS_TIEP_NHAN\"\nunit = \"51\"\ngoal = 60.0\n\
         measure = \"year_to_date\"\ndirection = \"at_most\"\ndeadline = \"2025-12-31\"\n",
    );
    assert!(baocao(&db, &["targets", "import", &more]).status.success());
    let progress = ok_json(&db, &["targets", "progress", "--period", "202509", "--format", "json"]);
    let of = |code: &str| {
        let p = progress.as_array().unwrap().iter().find(|p| p["target"]["code"] == code).unwrap();
        ((p["value"].as_f64().unwrap() * 100.0).round() / 100.0, p["reached"].as_bool().unwrap())
    };
    // August 110 of 200, September 90 of 100: 200 of 300 so far.
    assert_eq!(of("TT_LUY_KE"), (66.67, true), "{progress}");
    assert_eq!(of("TT_TOI_DA"), (66.67, false), "{progress}");
    assert_eq!(of("TT_TOAN_TRINH"), (90.0, true), "the month alone: {progress}");
}

#[tokio::test]
async fn the_2025_reform_replayed_as_the_cutover_of_a_province() {
    let db = with_regime().await;
    let dir = tempfile::tempdir().unwrap();
    reports(
        &db,
        &[
            ("submit", "23314", "202505", ["--set", "HS_TIEP_NHAN=40"]),
            ("approve", "23314", "202505", ["--by", "Nguyễn Văn A"]),
            ("save", "23314", "202506", ["--set", "HS_TIEP_NHAN=41"]),
            ("submit", "23317", "202506", ["--set", "HS_TIEP_NHAN=50"]),
        ],
    );
    std::fs::copy(data_dir().join("demo/form-bm01.toml"), dir.path().join("bm01.toml")).unwrap();
    let regime = std::fs::read_to_string(data_dir().join("demo/regime-monthly.toml"))
        .unwrap()
        .replace("[units]", "[units]\nunder = \"51\"");
    write(&dir, "regime.toml", &regime);
    let plan = write(
        &dir,
        "plan.toml",
        "key = \"qn-2025\"\nname = \"Chính quyền địa phương hai cấp\"\neffective_date = \"2025-07-01\"\nscope = \"51\"\n\
         source_organization = \"Văn phòng UBND tỉnh Quảng Ngãi\"\nreorganization = \"vn-2025-two-level\"\n\
         forms = [\"bm01.toml\"]\nregimes = [\"regime.toml\"]\n",
    );
    let dry = ok_json(&db, &["cutover", "dry-run", &plan, "--format", "json"]);
    let s = &dry["summary"];
    assert_eq!((s["units_closed"].as_u64(), s["units_opened"].as_u64()), (Some(10810), Some(3355)));
    assert_eq!(s["dissolved"].as_array().unwrap().len(), 297, "old Quảng Ngãi's and Kon Tum's units now in 51");
    let open: Vec<(&str, &str)> = s["open_reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["unit"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(open, [("23314", "draft"), ("23317", "submitted")]);

    let applied = ok_json(&db, &["cutover", "apply", &plan, "--format", "json"]);
    assert_eq!(applied["packages_made"], 297);
    assert!(baocao(&db, &["cutover", "verify", "qn-2025"]).status.success());
    let bags = dir.path().join("luu-tru/qn-2025");
    assert!(baocao(&db, &["archive", "verify", bags.to_str().unwrap()]).status.success());
    let may: Value =
        serde_json::from_slice(&std::fs::read(bags.join("23314/data/bao-cao/BC_THANG_TTHC-202505.json")).unwrap())
            .unwrap();
    assert_eq!(may["status"], "approved");

    // Legacy data stays queryable, in the structure of its own day, and read-only.
    let june = ok_json(
        &db,
        &["report", "show", "--regime", "BC_THANG_TTHC", "--unit", "23314", "--period", "202506", "--format", "json"],
    );
    let received = june["rows"].as_array().unwrap().iter().find(|r| r["indicator"] == "HS_TIEP_NHAN").unwrap();
    assert_eq!((june["status"].as_str(), received["cells"]["this_period"].as_f64()), (Some("draft"), Some(41.0)));
    let out = report(&db, "save", "23314", "202506", &["--set", "HS_TIEP_NHAN=1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("dữ liệu lưu trữ, chỉ xem"));
    // The new Ngọk Bay, which keeps the code, reports as before.
    assert!(report(&db, "save", "23317", "202507", &["--set", "HS_TIEP_NHAN=9"]).status.success());

    // Rollback: the reform stays (the cutover did not apply it), the form
    // version it carried is as it was, the old units' reports open again.
    let out = baocao(&db, &["cutover", "rollback", "qn-2025"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(ok_json(&db, &["forms", "show", "BM01"]).as_array().unwrap().len(), 2);
    assert!(report(&db, "save", "23314", "202506", &["--set", "HS_TIEP_NHAN=42"]).status.success());
}

#[tokio::test]
async fn a_backup_is_kept_with_a_retention_and_restored_into_a_new_database_with_its_audit_log_intact() {
    let db = loaded().await;
    assert!(baocao(&db, &["users", "add", "an.nv", "--name", "Nguyễn Văn An"]).status.success());
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let mut latest = String::new();
    for _ in 0..3 {
        let made = ok_json(&db, &["backup", "--dir", dir_arg, "--keep", "2", "--format", "json"]);
        latest = made["backup"].as_str().unwrap().to_string();
    }
    let kept = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(kept, 2, "the two newest are kept");
    // Into a new database: a file that does not exist, or a new PostgreSQL database.
    let (target, drop_after) = match db.url.split_once('?') {
        None => (format!("sqlite:{}", dir.path().join("restored.db").display()), None),
        Some((base, options)) => {
            let name = format!("baocao_restore_{}", std::process::id());
            let created = Command::new("psql").args([base, "-q", "-c", &format!("CREATE DATABASE {name}")]).status();
            assert!(created.unwrap().success());
            let (server, _) = base.rsplit_once('/').unwrap();
            (format!("{server}/{name}?{options}"), Some((base.to_string(), name)))
        }
    };
    let restored = ok_json(&db, &["restore", &latest, "--to", &target, "--format", "json"]);
    assert!(restored["audit_records"].as_u64().unwrap() > 0, "{restored}");
    let again = baocao_store::Db::connect(&target).await.unwrap();
    let accounts = again.accounts().await.unwrap();
    again.close().await;
    assert!(accounts.iter().any(|a| a.username == "an.nv"));
    // Never over a database that exists.
    let refused = baocao(&db, &["restore", &latest, "--to", &target]);
    assert!(!refused.status.success());
    if let Some((base, name)) = drop_after {
        let dropped =
            Command::new("psql").args([&base, "-q", "-c", &format!("DROP DATABASE {name} WITH (FORCE)")]).status();
        assert!(dropped.unwrap().success());
    }
}
