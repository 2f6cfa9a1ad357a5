//! How long the main pages take to render, against `baocao serve --demo`
//! (the bundled national registry, the demo province with two years of
//! reports, 13 indicators added for the pivot) on SQLite, over loopback:
//! every page one request at a time, then the composed pages (comparison,
//! output form, pivot) under several clients at once: first the same
//! question again and again (kept in the server's memory after the first),
//! then every request a question not asked before (composed each time).
//!
//! `cargo bench -p baocao --bench pages`; BENCH_REQUESTS sets the number
//! of timed requests per page (default 200), BENCH_CLIENTS the clients at
//! once (default 8), each of which sends BENCH_REQUESTS / 2.

use chrono::Datelike;
use std::time::{Duration, Instant};

#[path = "shared/load.rs"]
mod load;
use load::{Load, Server, print_times, sign_in, timed_get};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let requests: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|n| n.parse().ok()).unwrap_or(200);
    let clients: usize = std::env::var("BENCH_CLIENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(8);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let (_server, base, pid) = Server::start(&["--db", &url, "serve", "--demo"], dir.path());
    settle(pid);
    // The demo has 7 indicators; the pivot the issue names has 20.
    let db = baocao_store::Db::connect(&url).await.unwrap();
    let registry = db.load_registry().await.unwrap();
    let today = baocao_core::today_in_vietnam();
    let last = chrono::NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap() - chrono::Months::new(1);
    let first = last - chrono::Months::new(23);
    let added = add_indicators(&db, &registry, &first, &last).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let admin = sign_in(&client, &base, "quantri", "demo-baocao-2025").await;
    let officer = sign_in(&client, &base, "nhaplieu.ngokbay", "demo-baocao-2025").await;
    // The officer's latest report, as the officer's task list links it.
    let home = client.get(format!("{base}/")).header("cookie", &officer).send().await.unwrap().text().await.unwrap();
    let report = home
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.starts_with("/reports/"))
        .expect("a task")
        .to_string();
    let pages: Vec<(&str, String, &String)> = vec![
        ("my tasks (system administrator)", "/".into(), &admin),
        ("my tasks (commune officer)", "/".into(), &officer),
        ("units of the province", "/units?under=51".into(), &admin),
        ("a unit and its lineage", "/units/23317".into(), &admin),
        ("reports of a period", "/reports".into(), &admin),
        ("report entry grid", report.clone(), &officer),
        ("printed report", format!("{report}/print"), &officer),
        ("review queue", "/review".into(), &admin),
        ("completeness with chart", "/completeness".into(), &admin),
        ("province total", "/output".into(), &admin),
        ("comparison over 12 months", "/compare?unit=51&indicator=HS_TIEP_NHAN".into(), &admin),
        ("indicators", "/indicators".into(), &admin),
        ("regimes and periods", "/regimes".into(), &admin),
        ("accounts", "/admin/accounts".into(), &admin),
        ("audit log", "/audit".into(), &admin),
    ];
    println!("{requests} requests per page, one at a time, after 5 unmeasured\n");
    println!("{:<36} {:>9} {:>9} {:>9} {:>9}", "page", "p50", "p95", "p99", "max");
    for (label, path, cookie) in pages {
        let mut times = Vec::with_capacity(requests);
        for i in 0..requests + 5 {
            let took = timed_get(&client, &format!("{base}{path}"), cookie).await;
            if i >= 5 {
                times.push(took);
            }
        }
        print_times(label, times);
    }

    let pivot = pivot_of(&first, &last, &added);
    let page = client.get(format!("{base}{pivot}")).header("cookie", &admin).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Chỉ tiêu BENCH_13"), "the pivot shows the indicators added");
    let loaded: Vec<(&str, String)> = vec![
        ("comparison over 12 months", "/compare?unit=51&indicator=HS_TIEP_NHAN".into()),
        ("province total", "/output".into()),
        ("pivot: province, 24 months, 20 indicators", pivot),
    ];
    let each = (requests / 2).max(1);
    println!("\n{clients} clients at once, {each} requests each after 2 unmeasured, as the system administrator");
    println!("(the same question each time: composed once, then kept)\n");
    println!("{:<36} {:>9} {:>9} {:>9} {:>9}", "page", "p50", "p95", "p99", "max");
    let load = Load { client: &client, cookie: &admin, clients, each };
    for (label, path) in loaded {
        let url = format!("{base}{path}");
        print_times(label, load.run(2, move |_, _| url.clone()).await);
    }

    // Every request a new question, so nothing is kept: the comparison and
    // the pivot each in the structure of another day (one a request, from
    // 01/01/2024 on), the output form for another month or count (each
    // month since it begins, with or without submitted reports: one at a
    // time, as there are too few questions for the clients).
    println!("\nEvery request a question not asked before (composed, not kept)\n");
    println!("{:<36} {:>9} {:>9} {:>9} {:>9}", "page", "p50", "p95", "p99", "max");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut times = Vec::new();
    // The output form begins in July 2025.
    let begins = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    for months_back in 0..24 {
        let month = last - chrono::Months::new(months_back);
        if month < begins {
            break;
        }
        for submitted in ["", "&submitted=1"] {
            let url = format!("{base}/output?period={}{submitted}", month.format("%Y%m"));
            times.push(timed_get(&client, &url, &admin).await);
        }
    }
    print_times("province total, one at a time", times);
    let fresh: Vec<(&str, String)> = vec![
        ("comparison over 12 months", "/compare?unit=51&indicator=HS_TIEP_NHAN&at=".into()),
        ("pivot: province, 24 months, 20 indicators", format!("{}&at=", pivot_of(&first, &last, &added))),
    ];
    for (label, path) in &fresh {
        let (base, path) = (base.clone(), path.clone());
        let times = load
            .run(0, move |c, i| {
                let day = start + chrono::Days::new((c * each + i) as u64);
                format!("{base}{path}{}", day.format("%d/%m/%Y"))
            })
            .await;
        print_times(&format!("{label}, {clients} clients"), times);
    }

    // What is kept is emptied by a write of a value: whole answers by any,
    // the numbers of a month by one of that month. The same new questions,
    // each right after another process stored one value (unmeasured) in
    // the month before last, which both pages show (the comparison may end
    // there, before the last month's deadline), as late reports come in:
    // that month is read again, the others are kept. One at a time, as
    // submissions would come between.
    println!("\nEach request right after a value was written by another process, one at a time\n");
    println!("{:<36} {:>9} {:>9} {:>9} {:>9}", "page", "p50", "p95", "p99", "max");
    for (n, (label, path)) in fresh.iter().enumerate() {
        let mut times = Vec::new();
        for i in 0..(requests / 4).max(1) {
            let raw = vec![baocao_core::datavalue::RawValue {
                index: 0,
                data_element: "DAN_SO".into(),
                period: (last - chrono::Months::new(1)).format("%Y%m").to_string(),
                org_unit: "51".into(),
                value: (n * 1000 + i).to_string(),
                comment: None,
            }];
            let summary = db.import_data_values("bench", "bench.json", &registry, raw).await.unwrap();
            assert_eq!(summary.import_count.imported + summary.import_count.updated, 1, "{summary:?}");
            let day = start + chrono::Days::new((1000 + n * 500 + i) as u64);
            let url = format!("{base}{path}{}", day.format("%d/%m/%Y"));
            times.push(timed_get(&client, &url, &admin).await);
        }
        print_times(label, times);
    }
}

/// The 13 indicators the pivot adds to the demo's 7, as `BENCH_01`…: each
/// stored for every unit and month the demo stored `HS_TIEP_NHAN` for,
/// from month `first` to month `last` (so across the 2025 reorganization
/// as the demo's own figures are), with values of their own. Written
/// through the store, as an import would, before any page is asked.
async fn add_indicators(
    db: &baocao_store::Db,
    registry: &baocao_core::Registry,
    first: &chrono::NaiveDate,
    last: &chrono::NaiveDate,
) -> Vec<String> {
    let codes: Vec<String> = (1..=13).map(|i| format!("BENCH_{i:02}")).collect();
    db.import_indicators("bench", &baocao_testkit::counted_indicators(codes.clone())).await.unwrap();
    let mut raw = Vec::new();
    let month = |day: &chrono::NaiveDate| baocao_core::Period::Month { year: day.year(), month: day.month() };
    for period in baocao_core::Period::range(month(first), month(last)).unwrap() {
        let counting = baocao_store::compose::Counting::Everything;
        for stored in db.values_of_period(&period, Some("HS_TIEP_NHAN"), counting).await.unwrap() {
            let Some(base) = stored.value_num else { continue };
            for (k, code) in codes.iter().enumerate() {
                raw.push(baocao_core::datavalue::RawValue {
                    index: raw.len(),
                    data_element: code.clone(),
                    period: stored.period.clone(),
                    org_unit: stored.unit_code.clone(),
                    value: (base as i64 + k as i64 + 1).to_string(),
                    comment: None,
                });
            }
        }
    }
    let count = raw.len();
    let summary = db.import_data_values("bench", "bench-indicators.json", registry, raw).await.unwrap();
    assert_eq!(summary.import_count.imported, count, "{summary:?}");
    println!("added 13 indicators to the demo's 7: {count} values over 24 months\n");
    codes
}

/// The pivot the issue names: the province's own figures, 20 indicators
/// (the demo's 7 and the 13 of [`add_indicators`]), from month `first` to
/// month `last`, in today's structure.
fn pivot_of(first: &chrono::NaiveDate, last: &chrono::NaiveDate, added: &[String]) -> String {
    let demo = [
        "HS_TIEP_NHAN",
        "HS_DUNG_HAN",
        "HS_TRUC_TUYEN_TOAN_TRINH",
        "TY_LE_TOAN_TRINH",
        "VB_DIEN_TU",
        "THU_NGAN_SACH",
        "DAN_SO",
    ];
    let indicators: String =
        demo.iter().copied().chain(added.iter().map(String::as_str)).map(|i| format!("indicator={i}&")).collect();
    format!(
        "/analysis?{indicators}unit=51&depth=area&rows=indicator&cols=period&from={}&to={}",
        first.format("%Y-%m"),
        last.format("%Y-%m")
    )
}

/// Waits until the server is idle: the demo signs its backlog of approved
/// reports and sends them to its national instance (in the same process)
/// for half a minute after it starts, which would be timed with the pages.
/// Idle: no CPU time spent (Linux's `/proc/PID/stat`) over two seconds.
fn settle(pid: u32) {
    let cpu = || -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // After the command's name in parentheses: utime and stime are the
        // 12th and 13th fields.
        let after = stat.rsplit(')').next().unwrap_or_default();
        after.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum()
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut before = cpu();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(2));
        let now = cpu();
        if now == before {
            return;
        }
        before = now;
    }
    eprintln!("the server did not settle within 3 minutes; timing it busy");
}
