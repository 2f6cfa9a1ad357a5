//! Faults that must leave the system working: a full disk, a read-only
//! database, processes starting together on a new database, and a server
//! told to stop while it answers.

mod common;

use std::io::{Read, Write};
use std::process::Command;

use baocao_core::access::{Grant, Permission, Role};
use baocao_credentials::{new_token, token_hash};
use baocao_store::Db;
use baocao_testkit::{TestDb, counted_indicators};
use common::{Process, SmallDisk};

/// A database with a province of three communes, one indicator and an
/// administrator's token; closed after, so that its journal is gone.
async fn prepared(url: &str) -> String {
    let db = Db::connect(url).await.unwrap();
    let unit = |code: &str, kind, level, parent: Option<&str>| baocao_core::UnitVersion {
        code: code.into(),
        name: format!("Đơn vị {code}"),
        kind,
        level,
        parent_code: parent.map(Into::into),
        validity: Default::default(),
        archive_note: None,
        agency: None,
    };
    let baseline = vec![
        unit("01", baocao_core::UnitKind::Province, 1, None),
        unit("00001", baocao_core::UnitKind::Commune, 2, Some("01")),
        unit("00002", baocao_core::UnitKind::Commune, 2, Some("01")),
    ];
    let plan = baocao_core::Reorganization {
        info: baocao_core::ReorgInfo {
            key: "baseline".into(),
            name: "baseline".into(),
            effective_date: baocao_core::parse_date("2020-01-01").unwrap(),
            legal_basis: None,
        },
        changes: vec![],
    };
    db.apply_reorganization(baseline, &plan, false, "test", &|_| {}).await.unwrap();
    db.import_indicators("test", &counted_indicators(["CT01".to_string()])).await.unwrap();
    db.create_account("test", "admin", "Quản trị", None).await.unwrap();
    let grant = Grant { role: Role::SystemAdmin, unit: None, forms: vec![], validity: Default::default() };
    db.add_grant("test", "admin", &grant).await.unwrap();
    let token = new_token();
    db.create_token("test", "admin", "tests", &token_hash(&token), &Permission::ALL).await.unwrap();
    db.close().await;
    token
}

/// A dataValueSet of `n` values: enough pages that the journal must grow.
fn values(n: usize, value: u32) -> String {
    let periods: Vec<String> = (2000..2100).flat_map(|y| (1..=12).map(move |m| format!("{y}{m:02}"))).collect();
    let rows: Vec<String> = periods
        .iter()
        .take(n)
        .map(|p| {
            format!(
                r#"{{"dataElement":"CT01","period":"{p}","orgUnit":"00001","value":"{value}","comment":"{}"}}"#,
                "x".repeat(200)
            )
        })
        .collect();
    format!(r#"{{"dataValues":[{}]}}"#, rows.join(","))
}

async fn post_values(client: &reqwest::Client, base: &str, token: &str, body: String) -> u16 {
    let res = client
        .post(format!("{base}/api/v1/dataValueSets"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

async fn ready(client: &reqwest::Client, base: &str) -> u16 {
    client.get(format!("{base}/readyz")).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_makes_the_server_not_ready_and_it_recovers_by_itself() {
    let Some(disk) = SmallDisk::mount(24) else { return };
    let url = format!("sqlite:{}", disk.path().join("baocao.db").display());
    let token = prepared(&url).await;
    let server = Process::serve(&url).await;
    let client = reqwest::Client::new();
    assert_eq!(post_values(&client, &server.base, &token, values(50, 1)).await, 200);
    assert_eq!(ready(&client, &server.base).await, 200);

    let filler = disk.fill();
    let refused = post_values(&client, &server.base, &token, values(1200, 2)).await;
    assert_eq!(refused, 503, "a write the disk cannot hold is refused, not acknowledged");
    assert_eq!(ready(&client, &server.base).await, 503, "not ready while it cannot write");
    // Reading goes on.
    let res = client.get(format!("{}/api/v1/indicators", server.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);

    std::fs::remove_file(filler).unwrap();
    assert_eq!(ready(&client, &server.base).await, 200, "ready again, without a restart");
    assert_eq!(post_values(&client, &server.base, &token, values(1200, 3)).await, 200);
    // Nothing of the refused write is there; what was acknowledged is.
    let res = client
        .get(format!("{}/api/v1/dataValueSets?period=200001&orgUnit=00001", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let set: serde_json::Value = res.json().await.unwrap();
    assert_eq!(set["dataValues"][0]["value"], "3");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_database_is_named_as_such() {
    let Some(disk) = SmallDisk::mount(16) else { return };
    let url = format!("sqlite:{}", disk.path().join("baocao.db").display());
    prepared(&url).await;
    let list = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(list.path(), "code,name,unit,value_type,aggregation,group\nCT02,Chỉ tiêu 2,hồ sơ,integer,sum,\n")
        .unwrap();
    disk.read_only(true);
    let import = ["--db", &url, "indicators", "import", list.path().to_str().unwrap()];
    let out = Command::new(env!("CARGO_BIN_EXE_baocao")).args(import).output().unwrap();
    disk.read_only(false);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be written") && err.contains("chỉ đọc"), "{err}");
    assert!(!err.contains("unable to open database file"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_starting_together_on_a_new_database_all_come_up() {
    let (url, _dir) = TestDb::blank().await;
    let children: Vec<std::process::Child> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_baocao"))
                .args(["--db", &url, "audit", "verify"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_the_requests_under_way_then_stops() {
    let t = TestDb::new().await;
    t.db.close().await;
    let token = prepared(&t.url).await;
    let server = Process::serve(&t.url).await;
    let address = server.base.trim_start_matches("http://").to_string();
    // A request under way: its headers sent, its body not yet.
    let body = values(20, 7);
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    let head = format!(
        "POST /api/v1/dataValueSets HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(first.as_bytes()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));

    let status = Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
    assert!(status.success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    // New connections are not taken any more …
    let refused = reqwest::Client::new().get(format!("{}/healthz", server.base)).send().await;
    assert!(refused.is_err(), "a new connection after SIGTERM");
    // … and the one under way is answered, and its write kept.
    stream.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let exit = server.wait();
    assert!(exit.success(), "the server stops cleanly: {exit}");
    let db = Db::connect(&t.url).await.unwrap();
    let stored =
        db.numbers("CT01", &"200001".parse().unwrap(), baocao_store::compose::Counting::Everything).await.unwrap();
    assert_eq!(stored.values().next(), Some(&7.0));
}
