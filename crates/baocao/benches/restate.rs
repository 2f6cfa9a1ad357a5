//! Restating years of data for the whole country into the 2025 structure,
//! against DuckDB on the same data in the same run.
//!
//! 5 years × 12 months of 100 indicators for each of the 10,051 old
//! communes (≈60 M values) are spread into the 3,321 new communes by the
//! registry's shares and summed to the 34 provinces. Both sides generate the
//! values with the same formula and use the same shares; each reports the
//! median of three runs and its peak memory. DuckDB (from PyPI:
//! `pip install duckdb`) runs in a child process with every core of the
//! machine, while this side uses one; both start from values in memory.
//!
//! `cargo bench -p baocao --bench restate`; BENCH_YEARS and
//! BENCH_INDICATORS change the size.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use baocao_core::Registry;
use baocao_core::restate::Restatement;
use baocao_ingest::vn_admin::{Sources, effective_date};

fn value(source: usize, indicator: usize, month: usize) -> f64 {
    ((source * 31 + indicator * 17 + month * 7) % 1000) as f64
}

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().split(' ').next()?.parse().ok());
    kib.map_or(f64::NAN, |k: f64| k / 1024.0)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let (years, indicators) = (env("BENCH_YEARS", 5), env("BENCH_INDICATORS", 100));
    let months = years * 12;
    let columns = indicators * months;

    let reform = Sources::bundled().read().expect("bundled national lists");
    let mut registry = Registry::new();
    registry.add_baseline(reform.baseline).expect("baseline");
    registry.apply(&reform.reorganization).expect("the 2025 reform");
    let day = effective_date();
    let t = Instant::now();
    let plan = Restatement::between(&registry, day.pred_opt().unwrap(), day).expect("shares");
    let shares_ms = t.elapsed().as_secs_f64() * 1000.0;
    let sources = plan.sources.len();

    // Column-major per source row: indicator i, month m at i * months + m.
    let mut values = vec![0.0; sources * columns];
    for (s, row) in values.chunks_exact_mut(columns).enumerate() {
        for i in 0..indicators {
            for m in 0..months {
                row[i * months + m] = value(s, i, m);
            }
        }
    }

    let mut runs = Vec::new();
    let mut provinces = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let communes = plan.apply(&values, columns);
        provinces = plan.provinces_of(&communes, columns);
        runs.push(t.elapsed().as_secs_f64());
        drop(communes);
    }
    runs.sort_by(f64::total_cmp);
    let checksum: f64 = provinces.iter().sum();
    let ours = (runs[1], peak_mib());

    // The same shares for DuckDB: source row, target row, province, weight.
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("source,target,province,weight\n");
    for (s, t, w) in plan.shares() {
        writeln!(csv, "{s},{t},{},{w}", plan.target_province[t]).unwrap();
    }
    std::fs::write(dir.path().join("map.csv"), csv).unwrap();
    drop(values);

    println!(
        "{} old communes × {indicators} indicators × {months} months = {:.1} M values → {} communes, {} provinces",
        sources,
        (sources * columns) as f64 / 1e6,
        plan.targets.len(),
        plan.provinces.len()
    );
    println!("shares from the registry: {shares_ms:.0} ms (once)");
    println!(
        "baocao (1 thread)  restate + provinces: {:>8.3} s, peak memory {:>6.0} MiB, checksum {checksum:.0}",
        ours.0, ours.1
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/restate_duckdb.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .args([sources, indicators, months, cores].map(|n| n.to_string()))
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
            let theirs = answer["checksum"].as_f64().unwrap();
            println!(
                "DuckDB ({cores} threads) restate + provinces: {:>8.3} s, peak memory {:>6.0} MiB, checksum {theirs:.0}",
                answer["seconds"].as_f64().unwrap(),
                answer["peak_mib"].as_f64().unwrap()
            );
            assert!((theirs - checksum).abs() <= checksum.abs() * 1e-9, "both sides must agree");
        }
        Ok(out) => println!("DuckDB did not run: {}", String::from_utf8_lossy(&out.stderr).trim()),
        Err(e) => println!("DuckDB did not run (python3: {e}); `pip install duckdb` to compare"),
    }
}
