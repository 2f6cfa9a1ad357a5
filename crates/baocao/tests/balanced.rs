//! Three `baocao serve` processes on one database behind a real load
//! balancer (HAProxy from Debian, round robin), as a province's data centre
//! runs them: a session opened through one process is honoured by the
//! others, and under bounded load of report saves, with one process killed
//! (SIGKILL) midway, every acknowledged save is stored exactly once,
//! clients sending a save twice or again with the same `Idempotency-Key`
//! are not doubled, and the audit chain verifies. On PostgreSQL with `BAOCAO_TEST_DATABASE_URL`,
//! else on one SQLite file shared by the processes.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{PASSWORD, Process, session_cookie, spawn};
use serde_json::Value;

/// HAProxy in front of `servers`, on a port of its own; stopped when dropped.
struct Balancer {
    child: Child,
    base: String,
    _config: tempfile::NamedTempFile,
}

impl Balancer {
    fn start(servers: &[Process]) -> Balancer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let backends: String = servers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!("    server s{i} {} check inter 300ms fall 1 rise 1\n", s.base.trim_start_matches("http://"))
            })
            .collect();
        // A connection the balancer cannot make is tried on another server
        // (`redispatch`); a request a server dies in the middle of is
        // answered 502, and the client retries it with its key.
        let config = format!(
            "global\n    maxconn 512\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    timeout server 60s\n    \
             option redispatch\n    retries 3\n\
             frontend web\n    bind 127.0.0.1:{port}\n    default_backend baocao\n\
             backend baocao\n    balance roundrobin\n{backends}"
        );
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, config.as_bytes()).unwrap();
        let child = Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(file.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("HAProxy runs the load-balanced test: apt-get install haproxy");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "HAProxy did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        Balancer { child, base: format!("http://127.0.0.1:{port}"), _config: file }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SAVES: u32 = 3;

/// Sends one save until it is answered 200, again with the same key
/// whenever its answer is lost; counts each sending again in `retried`.
async fn send(client: &reqwest::Client, base: &str, token: &str, key: &str, body: &str, retried: &AtomicUsize) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let sent = client
            .post(format!("{base}/api/v1/reports?answer=outcome"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(body.to_string())
            .send()
            .await;
        let status = sent.map_or(0, |res| res.status().as_u16());
        if status == 200 {
            return;
        }
        // Lost on the way (0, 502, 503) or held by a claim under way, the
        // killed process's included until its lease lapses (409): again.
        assert!([0, 409, 502, 503, 504].contains(&status), "{key}: answered {status}");
        assert!(Instant::now() < deadline, "{key}: never answered");
        retried.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Saves report `(unit, period)` [`SAVES`] times through `base`, each with
/// a key of its own and sent twice at once (as a client does whose first
/// attempt seemed lost), each attempt sent again until answered; returns
/// the values acknowledged, in order.
async fn save_all(
    client: reqwest::Client,
    base: String,
    token: String,
    reports: Vec<(String, String)>,
    acknowledged: Arc<AtomicUsize>,
    retried: Arc<AtomicUsize>,
) -> Vec<((String, String), Vec<u32>)> {
    let mut done = Vec::new();
    for (unit, period) in reports {
        let mut values = Vec::new();
        for n in 1..=SAVES {
            let value = n * 7;
            let key = format!("{unit}-{period}-{n}");
            let body = format!(
                r#"{{"regime":"BC_THANG_TTHC","unit":"{unit}","period":"{period}","action":"save","values":{{"HS_TIEP_NHAN":"{value}"}}}}"#
            );
            let attempt = || send(&client, &base, &token, &key, &body, &retried);
            tokio::join!(attempt(), attempt());
            acknowledged.fetch_add(1, Ordering::SeqCst);
            values.push(value);
        }
        done.push(((unit, period), values));
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_behind_a_balancer_lose_nothing_and_double_nothing_when_one_is_killed() {
    let app = spawn().await;
    let args = ["--db", app.db.url.as_str(), "serve", "--listen", "127.0.0.1:0"];
    let mut servers: Vec<Process> = (0..3).map(|_| Process::start(&args)).collect();
    let balancer = Balancer::start(&servers);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // A session opened through one process holds on every process: pages
    // and a form posted with its CSRF token, round robin.
    let res = client
        .post(format!("{}/login", balancer.base))
        .form(&[("username", "ngokbay"), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let cookie = session_cookie(&res).expect("a session");
    for _ in 0..3 {
        let res = client.get(format!("{}/inbox", balancer.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let page = res.text().await.unwrap();
        let at = page.find("name=\"_csrf\" value=\"").expect("a form with a CSRF token") + 20;
        let csrf = &page[at..at + 64];
        let res = client
            .post(format!("{}/inbox/read", balancer.base))
            .header("cookie", &cookie)
            .form(&[("_csrf", csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303, "a form posted through another process");
    }

    // Bounded load: 8 clients, 96 reports, three saves each.
    let (_, units) = app.get("/api/v1/units?at=2025-07-01&under=51").await;
    let units: Vec<String> =
        units.as_array().unwrap().iter().take(24).map(|u| u["code"].as_str().unwrap().to_string()).collect();
    let reports: Vec<(String, String)> = units
        .iter()
        .flat_map(|u| ["202508", "202509", "202510", "202511"].map(|p| (u.clone(), p.to_string())))
        .collect();
    let total = reports.len() * SAVES as usize;
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let retried = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = reports
        .chunks(reports.len() / 8)
        .map(|chunk| {
            tokio::spawn(save_all(
                client.clone(),
                balancer.base.clone(),
                app.token("admin").to_string(),
                chunk.to_vec(),
                acknowledged.clone(),
                retried.clone(),
            ))
        })
        .collect();
    // Midway, one process is killed without a chance to finish anything.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.load(Ordering::SeqCst) < total / 3 {
        assert!(Instant::now() < deadline, "the load did not get going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = servers.remove(1);
    drop(killed);
    let mut expected = BTreeMap::new();
    for c in clients {
        expected.extend(c.await.unwrap());
    }
    assert_eq!(acknowledged.load(Ordering::SeqCst), total);
    eprintln!("{total} saves acknowledged, {} sent again", retried.load(Ordering::SeqCst));

    // Every acknowledged save is stored, once: one revision a save, the
    // last value standing.
    for ((unit, period), values) in &expected {
        let (status, report) =
            app.get(&format!("/api/v1/reports?regime=BC_THANG_TTHC&unit={unit}&period={period}")).await;
        assert_eq!(status, 200);
        let saves: Vec<&Value> =
            report["revisions"].as_array().unwrap().iter().filter(|r| r["action"] == "save").collect();
        assert_eq!(saves.len(), values.len(), "{unit} {period}: {saves:#?}");
        let row = report["rows"].as_array().unwrap().iter().find(|r| r["indicator"] == "HS_TIEP_NHAN").unwrap();
        let last = f64::from(*values.last().unwrap());
        assert_eq!(row["cells"]["this_period"].as_f64(), Some(last), "{unit} {period}: {report}");
    }
    let verdict = app.db.db.verify_audit().await.unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
    assert!(verdict.records >= total, "{} audit records for {total} saves", verdict.records);
    drop(balancer);
}
