//! The whole country on one database (issues 18 and 20): the national
//! registry, 100 indicators, five years of values of every commune before
//! the 2025 reform and every month since, imported as a centre would
//! receive them; then the national question against DuckDB and the pages
//! of a province under several clients at once.
//!
//! `BAOCAO_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 cargo bench -p baocao --bench national`
//! (DuckDB from PyPI, in the Python named by `BAOCAO_BENCH_PYTHON`).
//! `BENCH_BACKENDS` (`sqlite,postgres` by default; PostgreSQL only when
//! `BAOCAO_BENCH_POSTGRES` names a server), `BENCH_MONTHS_BEFORE` (60: the
//! months up to 06/2025), `BENCH_MONTHS_AFTER` (every month from 07/2025
//! to last month when absent), `BENCH_RUNS` (3), `BENCH_REQUESTS` (200)
//! and `BENCH_CLIENTS` (8) change the size.
//!
//! Setup, not timed: for each backend a fresh database with the national
//! registry and 100 summed indicators; one DHIS2 CSV file a month, each
//! with every indicator of every lowest unit of its day (the ≈10,000
//! communes of 30/06/2025 before the reform, the 3,321 of 01/07/2025
//! after); the shares of each province of 2025 in the units of
//! 30/06/2025, written from baocao's registry for DuckDB.
//!
//! Timed:
//! 1. the import: every month's file with `baocao data import`, one
//!    process a file as the months arrive, into the same database; the
//!    size of the database after; DuckDB reading every file into one table;
//! 2. the national question: every province of 2025 in the 2025 structure,
//!    100 indicators × every month before the reform
//!    (`data export --structure-at 2025-07-01 --level 1`), against DuckDB
//!    joining the same shares; answers compared cell by cell on every run;
//! 3. pages of Quảng Ngãi (51) as a leader who sees the whole country
//!    (role `viewer` without a unit: no second factor to enrol), under
//!    `BENCH_CLIENTS` clients: the comparison over 12 months and the pivot
//!    of 24 months × 20 indicators, first the same question each time
//!    (composed once, then kept), then each request in the structure of
//!    another day (composed each time).
//!
//! Not exercised: reports (every value is imported, so the counting
//! rule's subquery finds no report), agencies, formulas, access filtering
//! (the leader sees everything), the dashboard page.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use baocao_core::{Period, Periodicity, parse_date, today_in_vietnam};
use chrono::{Datelike, Months, NaiveDate};

#[path = "shared/load.rs"]
mod load;
#[path = "shared/processes.rs"]
mod processes;
use load::{Load, Server, print_times, sign_in, timed_get};
use processes::{
    Runs, ask, baocao, drop_postgres, duckdb, env, fresh_postgres, indicators_file, print_table, registry_of, setup,
    timed, write_shares,
};

const PASSWORD: &str = "do tai toan quoc nam hai muoi";

/// One month's values: every indicator of every unit in `units`, the
/// month's position `m` among all months giving values of their own.
fn write_month(path: &Path, period: &Period, units: &[String], m: usize) -> usize {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "dataelement,period,orgunit,catoptcombo,attroptcombo,value").unwrap();
    for (s, unit) in units.iter().enumerate() {
        for i in 0..100 {
            writeln!(out, "CT{i:03},{period},{unit},,,{}", (s * 31 + i * 17 + m * 7) % 1000).unwrap();
        }
    }
    out.flush().unwrap();
    units.len() * 100
}

/// The size of the database behind `url`, in MiB.
fn size_mib(url: &str) -> f64 {
    match url.strip_prefix("sqlite:") {
        Some(file) => {
            let bytes: u64 =
                ["", "-wal"].iter().filter_map(|s| std::fs::metadata(format!("{file}{s}")).ok()).map(|m| m.len()).sum();
            bytes as f64 / 1048576.0
        }
        None => {
            let out = Command::new("psql")
                .args([url, "-tAc", "SELECT pg_database_size(current_database())"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse::<f64>().unwrap() / 1048576.0
        }
    }
}

/// An account that sees every unit, made from the shell as an operator
/// makes the first ones.
fn leader(url: &str) {
    let mut add = baocao(url, &["users", "add", "dotai", "--name", "Đo tải", "--password-stdin"]);
    let mut child = add.stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "the account is made");
    let granted = baocao(url, &["users", "grant", "dotai", "--role", "viewer"]).output().unwrap();
    assert!(granted.status.success(), "{}", String::from_utf8_lossy(&granted.stderr));
}

fn main() {
    let (runs, requests, clients) = (env("BENCH_RUNS", 3), env("BENCH_REQUESTS", 200), env("BENCH_CLIENTS", 8));
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let path = |name: &str| file(name).display().to_string();
    let indicators = file("indicators.csv");
    indicators_file(&indicators);

    let server = std::env::var("BAOCAO_BENCH_POSTGRES").ok().map(|s| s.trim_end_matches('/').to_string());
    let wanted = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let name = format!("baocao_national_{}", std::process::id());
    let mut backends: Vec<(&str, String)> = Vec::new();
    if wanted.contains("sqlite") {
        backends.push(("SQLite", format!("sqlite:{}", path("national.db"))));
    }
    if let (true, Some(server)) = (wanted.contains("postgres"), &server) {
        backends.push(("PostgreSQL", fresh_postgres(server, &name)));
    }
    assert!(!backends.is_empty(), "no backend: BENCH_BACKENDS={wanted}, BAOCAO_BENCH_POSTGRES unset?");
    for (_, url) in &backends {
        setup(url, &indicators);
    }

    let registry = registry_of(&backends[0].1);
    let (before, after) = (parse_date("2025-06-30").unwrap(), parse_date("2025-07-01").unwrap());
    let today = today_in_vietnam();
    let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap();
    let leaves = |day: NaiveDate| -> Vec<String> {
        let provinces = registry.units_of_area(None, false, day).unwrap();
        let provinces = provinces.iter().filter(|u| u.level == 1);
        let mut codes: Vec<String> =
            provinces.flat_map(|p| registry.leaves_under(&p.code, day).unwrap()).map(|u| u.code).collect();
        codes.sort();
        codes
    };
    let (old, new) = (leaves(before), leaves(after));
    let months_before = env("BENCH_MONTHS_BEFORE", 60);
    let earlier = Period::ending_between(Periodicity::Monthly, after - Months::new(months_before as u32), before);
    let mut later = Period::ending_between(Periodicity::Monthly, after, this_month.pred_opt().unwrap());
    later.truncate(env("BENCH_MONTHS_AFTER", later.len()));
    let mut months = Vec::new();
    let mut total = 0;
    for (m, period) in earlier.iter().chain(&later).enumerate() {
        let units = if m < earlier.len() { &old } else { &new };
        let month = file(&format!("values-{period}.csv"));
        let count = write_month(&month, period, units, m);
        total += count;
        months.push((month, count));
    }
    let provinces = registry.units_of_area(None, false, after).unwrap();
    let provinces: Vec<_> = provinces.into_iter().filter(|u| u.level == 1).collect();
    write_shares(&registry, &provinces, (after, before), &file("shares.csv"));
    println!(
        "{} lowest units × 100 indicators × {} months before the reform, {} × 100 × {} months after: {total} values in {} files; {} provinces of 2025",
        old.len(),
        earlier.len(),
        new.len(),
        later.len(),
        months.len(),
        provinces.len()
    );

    // 1. The import, month by month, into each backend's one database.
    let mut table = vec![format!("import of {total} values, {} files", months.len())];
    let mut sizes = Vec::new();
    for (backend, url) in &backends {
        let mut each = Runs(Vec::new());
        for (month, count) in &months {
            let summary = file("summary.json");
            each.0.push(timed(&mut baocao(url, &["data", "import", &month.display().to_string()]), Some(&summary)));
            let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
            assert_eq!(summary["importCount"]["imported"].as_u64(), Some(*count as u64), "{summary}");
        }
        let seconds: f64 = each.0.iter().map(|r| r.0).sum();
        println!("{backend}: {seconds:.0} s for every file");
        table.push(each.line(&format!("baocao `data import` of one month, {backend} (total {seconds:.0} s)")));
        sizes.push(format!("{backend}: {:.0} MiB", size_mib(url)));
    }
    let files = format!("{}/values-*.csv", dir.path().display());
    let duck_import = Runs(vec![timed(&mut duckdb(&["import", &path("duck.db"), &files]), None)]);
    table.push(duck_import.line("DuckDB `read_csv` of every file into a table"));
    println!("database sizes after the import: {}", sizes.join(", "));

    // 2. Every province's total in the 2025 structure, every month before it.
    let (first, last) = (earlier[0].to_string(), earlier[earlier.len() - 1].to_string());
    let args = [
        "data",
        "export",
        "--structure-at",
        "2025-07-01",
        "--from",
        &first,
        "--to",
        &last,
        "--level",
        "1",
        "--format",
        "csv",
    ];
    let duck_args = ["table", &path("duck.db"), &path("shares.csv"), "all", &first, &last, "all", &path("duck.csv")];
    let databases: Vec<(&str, &str)> = backends.iter().map(|(name, url)| (*name, url.as_str())).collect();
    let title = format!("every province in the 2025 structure, {first}–{last} × 100 indicators");
    let question = (title.as_str(), "data export --structure-at --level 1");
    table.extend(ask(runs, &duck_args, &file("duck.csv"), &databases, &args, &file("ours.csv"), question));
    println!();
    print_table(&table);

    // 3. The pages of a province, on each backend's database.
    let last_month = this_month - Months::new(1);
    let pivot = format!(
        "/analysis?{}unit=51&depth=area&rows=indicator&cols=period&from={}&to={}",
        (0..20).map(|i| format!("indicator=CT{i:03}&")).collect::<String>(),
        (last_month - Months::new(23)).format("%Y-%m"),
        last_month.format("%Y-%m"),
    );
    let pages = [
        ("comparison over 12 months", "/compare?unit=51&indicator=CT001".to_string()),
        ("pivot: province, 24 months, 20 indicators", pivot),
    ];
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (backend, url) in &backends {
        leader(url);
        let (_server, base, _) = Server::start(&["--db", url, "serve"], dir.path());
        rt.block_on(async {
            let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let cookie = sign_in(&client, &base, "dotai", PASSWORD).await;
            let each = (requests / 2).max(1);
            let load = Load { client: &client, cookie: &cookie, clients, each };
            println!("\n{backend}: {clients} clients at once, {each} requests each\n");
            println!("{:<48} {:>9} {:>9} {:>9} {:>9}", "page", "p50", "p95", "p99", "max");
            for (label, page) in &pages {
                let cold = timed_get(&client, &format!("{base}{page}"), &cookie).await;
                println!("{:<48} {:>9.2} ms (the first request, nothing kept)", label, cold.as_secs_f64() * 1000.0);
                let url = format!("{base}{page}");
                print_times(&format!("{label}, the same question"), load.run(2, move |_, _| url.clone()).await);
                let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
                let (base, page) = (base.clone(), page.clone());
                let fresh = load
                    .run(0, move |c, i| {
                        let day = start + chrono::Days::new((c * each + i) as u64);
                        format!("{base}{page}&at={}", day.format("%d/%m/%Y"))
                    })
                    .await;
                print_times(&format!("{label}, a new day each time"), fresh);
            }
        });
    }
    if let (true, Some(server)) = (wanted.contains("postgres"), &server) {
        drop_postgres(server, &name);
    }
}
