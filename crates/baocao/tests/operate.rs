//! What an operator runs: `baocao doctor`, `baocao migrate --check` and
//! `migrate` on a database the previous release left, and the
//! configuration file with its order of precedence (command line, then
//! environment, then file). On both backends.

use std::process::{Command, Output};

use baocao_store::with_pool;
use baocao_testkit::TestDb;
use serde_json::Value;

/// `baocao ARGS` with `env` set (and the operator's own BAOCAO_ variables
/// cleared, so that only the test's count).
fn baocao(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baocao"));
    command.args(args).env("CI", "1");
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("BAOCAO_")) {
        command.env_remove(name);
    }
    command.envs(env.iter().copied()).output().expect("baocao runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// The finding of `check` in a doctor's JSON answer.
fn finding<'a>(report: &'a Value, check: &str) -> &'a Value {
    report.as_array().unwrap().iter().find(|f| f["check"] == check).unwrap_or_else(|| panic!("{check}: {report}"))
}

#[tokio::test]
async fn an_upgrade_is_tried_on_a_copy_then_applied() {
    let t = TestDb::new().await;
    t.db.create_account("test", "canbo", "Cán bộ", None).await.unwrap();
    // The database as the release before the latest migration left it.
    for statement in
        ["DROP TABLE rate_limits", "DROP TABLE idempotency_keys", "DELETE FROM _sqlx_migrations WHERE version = 23"]
    {
        with_pool!(&t.db, |pool| sqlx::query(statement).execute(pool).await.map(drop).unwrap());
    }
    let doctor = baocao(&["--db", &t.url, "doctor", "--format", "json"], &[]);
    assert!(doctor.status.success(), "{}", String::from_utf8_lossy(&doctor.stderr));
    let report = json(&doctor);
    let migrations = finding(&report, "migrations");
    assert_eq!(migrations["level"], "warn", "{migrations}");
    assert!(migrations["vi"].as_str().unwrap().contains("baocao migrate --check"), "{migrations}");
    assert_eq!(finding(&report, "database")["level"], "ok");

    // Tried on a copy: the migration applies there and the copy's audit
    // log verifies; the database itself is left as it was.
    let check = baocao(&["--db", &t.url, "migrate", "--check", "--format", "json"], &[]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let checked = json(&check);
    assert_eq!(checked["checked_on_copy"], true);
    assert_eq!(checked["applied"].as_array().unwrap().len(), 1, "{checked}");
    assert!(checked["applied"][0].as_str().unwrap().starts_with("0023"), "{checked}");
    assert!(checked["audit_records"].as_u64().unwrap() > 0, "{checked}");
    assert_eq!(t.db.migrations().await.unwrap().pending.len(), 1, "the database itself unchanged");

    let applied = baocao(&["--db", &t.url, "migrate"], &[]);
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));
    assert!(String::from_utf8_lossy(&applied.stdout).contains("Đã áp dụng 1 bước nâng cấp"));
    assert!(t.db.migrations().await.unwrap().pending.is_empty());
    let report = json(&baocao(&["--db", &t.url, "doctor", "--format", "json"], &[]));
    assert_eq!(finding(&report, "migrations")["level"], "ok", "{report}");
}

#[tokio::test]
async fn doctor_fails_on_what_would_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite:{}", dir.path().join("khong-co.db").display());
    let key = dir.path().join("khoa.p12");
    std::fs::write(&key, b"not a PKCS#12 file").unwrap();
    let trust = dir.path().join("tin-cay.pem");
    std::fs::write(&trust, b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n").unwrap();
    let args = ["--db", &missing, "doctor", "--format", "json", "--smtp-url", "smtp://127.0.0.1:1", "--signing-key"];
    let files = [key.to_str().unwrap(), "--trust-list", trust.to_str().unwrap()];
    let out = baocao(&[&args[..], &files].concat(), &[]);
    assert!(!out.status.success());
    let report = json(&out);
    let signing = finding(&report, "signing_key");
    assert_eq!(signing["level"], "fail", "{report}");
    assert!(signing["vi"].as_str().unwrap().contains("sai định dạng hoặc sai mật khẩu"), "{signing}");
    let trust = finding(&report, "trust_list");
    assert_eq!(trust["level"], "fail", "{report}");
    assert!(trust["vi"].as_str().unwrap().contains("danh sách tin cậy không đọc được"), "{trust}");
    assert_eq!(finding(&report, "database")["level"], "fail", "{report}");
    let mail = finding(&report, "mail");
    assert_eq!(mail["level"], "fail", "{report}");
    assert!(mail["vi"].as_str().unwrap().contains("không kết nối được máy chủ thư"), "{mail}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("có vấn đề cần xử lý"));
}

#[tokio::test]
async fn the_configuration_file_counts_where_the_command_line_and_the_environment_do_not() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baocao.toml");
    let config = path.to_str().unwrap();
    std::fs::write(&path, format!("database_url = \"{}\"\nsmtp_url = \"smtp://127.0.0.1:1\"\n", t.url)).unwrap();
    // The file's database and mail server.
    let report = json(&baocao(&["--config", config, "doctor", "--format", "json"], &[]));
    assert_eq!(finding(&report, "database")["level"], "ok", "{report}");
    assert!(finding(&report, "mail")["vi"].as_str().unwrap().contains("127.0.0.1:1"), "{report}");
    // The environment wins over the file, and the command line over both.
    let env = [("BAOCAO_SMTP_URL", "smtp://127.0.0.1:2"), ("BAOCAO_CONFIG", config)];
    let report = json(&baocao(&["doctor", "--format", "json"], &env));
    assert!(finding(&report, "mail")["vi"].as_str().unwrap().contains("127.0.0.1:2"), "{report}");
    let report = json(&baocao(&["doctor", "--format", "json", "--smtp-url", "smtp://127.0.0.1:3"], &env));
    assert!(finding(&report, "mail")["vi"].as_str().unwrap().contains("127.0.0.1:3"), "{report}");

    // A misspelt key is refused, naming the file, the line and the key.
    std::fs::write(&path, "listen = \"127.0.0.1:0\"\nsmtp_ulr = \"smtp://127.0.0.1:1\"\n").unwrap();
    let out = baocao(&["--config", config, "doctor"], &[]);
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("baocao.toml") && error.contains("line 2") && error.contains("smtp_ulr"), "{error}");
}

#[tokio::test]
async fn doctor_tells_of_values_no_yearly_partition_holds() {
    use baocao_core::{ReorgInfo, Reorganization, UnitKind, UnitVersion, Validity, datavalue::RawValue};
    let t = TestDb::new().await;
    let unit = UnitVersion {
        code: "01".into(),
        name: "Tỉnh".into(),
        kind: UnitKind::Province,
        level: 1,
        parent_code: None,
        validity: Validity::default(),
        archive_note: None,
        agency: None,
    };
    let info = ReorgInfo {
        key: "baseline".into(),
        name: "baseline".into(),
        effective_date: baocao_core::parse_date("2010-01-01").unwrap(),
        legal_basis: None,
    };
    let plan = Reorganization { info, changes: vec![] };
    t.db.apply_reorganization(vec![unit], &plan, false, "test", &|_| {}).await.unwrap();
    t.db.import_indicators("test", &baocao_testkit::counted_indicators(["CT01".to_string()])).await.unwrap();
    let registry = t.db.load_registry().await.unwrap();
    let value = |index, period: &str| RawValue {
        index,
        data_element: "CT01".into(),
        period: period.into(),
        org_unit: "01".into(),
        value: "1".into(),
        comment: None,
    };
    let raw = vec![value(0, "201412"), value(1, "2015Q1"), value(2, "20250715")];
    assert_eq!(t.db.import_data_values("test", "t.json", &registry, raw).await.unwrap().import_count.imported, 3);
    let report = json(&baocao(&["--db", &t.url, "doctor", "--format", "json"], &[]));
    let partitions = report.as_array().unwrap().iter().find(|f| f["check"] == "partitions");
    if t.url.starts_with("postgres") {
        // The value of 2014 only: 2015's first quarter and a day of 2025 have their years.
        let partitions = partitions.unwrap_or_else(|| panic!("{report}"));
        assert_eq!(partitions["level"], "warn", "{partitions}");
        assert!(partitions["vi"].as_str().unwrap().starts_with("1 số liệu"), "{partitions}");
    } else {
        assert!(partitions.is_none(), "SQLite does not partition: {report}");
    }
}
