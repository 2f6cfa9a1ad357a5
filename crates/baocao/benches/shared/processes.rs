//! Helpers of the benchmarks that time baocao's commands as whole
//! processes and compare their answers with DuckDB's (`analytics`,
//! `national`): included by each with `#[path]`, so each bench uses all of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `cmd` under `/usr/bin/time`; its wall time and peak memory (MiB).
pub fn timed(cmd: &mut Command, stdout: Option<&Path>) -> (f64, f64) {
    let out = match stdout {
        Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
        None => Stdio::null(),
    };
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped.args(["-f", "peak %M"]).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapped.env(k, v);
        }
    }
    let started = Instant::now();
    let done = wrapped.stdout(out).stderr(Stdio::piped()).output().expect("the command starts");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{cmd:?}: {stderr}");
    let kib: f64 = stderr.lines().filter_map(|l| l.strip_prefix("peak ")).next_back().unwrap().trim().parse().unwrap();
    (seconds, kib / 1024.0)
}

/// The DuckDB side's command (`analytics_duckdb.py` with `args`), in the
/// Python named by `BAOCAO_BENCH_PYTHON` (`python3` when unset), which has
/// `duckdb` installed.
pub fn duckdb(args: &[&str]) -> Command {
    let python = std::env::var("BAOCAO_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd = Command::new(python);
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/analytics_duckdb.py")).args(args);
    cmd
}

pub fn baocao(url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baocao"));
    cmd.env("CI", "1").args(["--db", url]).args(args);
    cmd
}

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

pub fn setup(url: &str, indicators: &Path) {
    let dir = data();
    let load = [
        "registry",
        "load-2025",
        &dir.join("vn-admin").display().to_string(),
        "--supplement",
        &dir.join("supplements/special-zones-2025.csv").display().to_string(),
    ];
    timed(&mut baocao(url, &load), None);
    timed(&mut baocao(url, &["indicators", "import", &indicators.display().to_string()]), None);
}

type Answer = HashMap<(String, String, String), (f64, bool)>;

/// A CSV answer as (indicator, unit, period) → (value, estimated), from
/// the columns at `at` (indicator, unit, period, value, estimated): baocao
/// writes a unit's name between unit and period, and how many sources it
/// withheld (none from the command line) after.
fn answer(path: &Path, at: [usize; 5]) -> Answer {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let [indicator, unit, period, value, estimated] = at;
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert!(r.get(6).is_none_or(|withheld| withheld == "0"), "nothing withheld: {r:?}");
            let key = (r[indicator].to_string(), r[unit].to_string(), r[period].to_string());
            (key, (r[value].parse().unwrap(), &r[estimated] == "true"))
        })
        .collect()
}

/// Where baocao's and DuckDB's answers keep each column.
const BAOCAO: [usize; 5] = [0, 1, 3, 4, 5];
const DUCKDB: [usize; 5] = [0, 1, 2, 3, 4];

fn same(
    ours: &HashMap<(String, String, String), (f64, bool)>,
    theirs: &HashMap<(String, String, String), (f64, bool)>,
) {
    assert_eq!(ours.len(), theirs.len(), "the same number of figures");
    for (key, (value, estimated)) in ours {
        let (v, e) = theirs.get(key).unwrap_or_else(|| panic!("DuckDB has no figure for {key:?}"));
        assert!((value - v).abs() <= 1e-9 * value.abs().max(1.0), "{key:?}: baocao {value}, DuckDB {v}");
        assert_eq!(estimated, e, "{key:?}: estimated");
    }
}

pub struct Runs(pub Vec<(f64, f64)>);

impl Runs {
    pub fn line(&self, who: &str) -> String {
        let mut t: Vec<f64> = self.0.iter().map(|r| r.0).collect();
        t.sort_by(f64::total_cmp);
        let peak = self.0.iter().map(|r| r.1).fold(0.0, f64::max);
        format!("| {who} | {:.3} | {:.3} | {:.3} | {peak:.0} |", t[0], t[t.len() / 2], t[t.len() - 1])
    }
}

/// 100 summed number indicators, `CT000` to `CT099`, as a catalog file.
pub fn indicators_file(path: &Path) {
    let mut text = String::from("code,name,unit,value_type,aggregation,group,formula\n");
    for i in 0..100 {
        text.push_str(&format!("CT{i:03},Chỉ tiêu {i},đơn vị,number,sum,Thử,\n"));
    }
    std::fs::write(path, text).unwrap();
}

/// A new empty database `name` on the PostgreSQL `server` (its URL
/// without a database), dropped first if a run left it; its URL.
pub fn fresh_postgres(server: &str, name: &str) -> String {
    drop_postgres(server, name);
    timed(Command::new("psql").args([&format!("{server}/postgres"), "-qc", &format!("CREATE DATABASE {name}")]), None);
    format!("{server}/{name}")
}

/// Drops database `name` of `server`, connections and all.
pub fn drop_postgres(server: &str, name: &str) {
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    timed(Command::new("psql").args([&format!("{server}/postgres"), "-qc", &drop]), None);
}

/// Asks DuckDB ([`duckdb`] with `duck_args`, which writes `duck_out`) and
/// baocao on each of `databases` (name, URL) the same question `runs`
/// times, interleaved, each of baocao's answers compared cell by cell with
/// DuckDB's; the table's lines: `title` with the number of figures, then
/// each side's times.
pub fn ask(
    runs: usize,
    duck_args: &[&str],
    duck_out: &Path,
    databases: &[(&str, &str)],
    args: &[&str],
    ours_out: &Path,
    (title, command): (&str, &str),
) -> Vec<String> {
    let mut ours: Vec<Runs> = databases.iter().map(|_| Runs(Vec::new())).collect();
    let mut theirs = Runs(Vec::new());
    for _ in 0..runs {
        theirs.0.push(timed(&mut duckdb(duck_args), None));
        let expected = answer(duck_out, DUCKDB);
        for (b, (_, url)) in databases.iter().enumerate() {
            ours[b].0.push(timed(&mut baocao(url, args), Some(ours_out)));
            same(&answer(ours_out, BAOCAO), &expected);
        }
    }
    let cells = answer(ours_out, BAOCAO).len();
    let mut lines = vec![format!("{title}: {cells} figures, equal cell by cell")];
    for (b, (name, _)) in databases.iter().enumerate() {
        lines.push(ours[b].line(&format!("baocao `{command}`, {name}")));
    }
    lines.push(theirs.line("DuckDB, a join and a GROUP BY"));
    lines
}

/// The table of times: a line not already a row is a question's title.
pub fn print_table(lines: &[String]) {
    println!("| question / side | min s | median s | max s | peak MiB |");
    for line in lines {
        if line.starts_with('|') {
            println!("{line}");
        } else {
            println!("| **{line}** | | | | |");
        }
    }
}

/// The registry of the database at `url`, read once for the setup.
pub fn registry_of(url: &str) -> baocao_core::Registry {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = baocao_store::Db::connect(url).await.unwrap();
        let registry = db.load_registry().await.unwrap();
        db.close().await;
        registry
    })
}

/// DuckDB's shares: each of `targets` in the structure of `after`, each
/// unit of `before` it is made of, the share and whether it is estimated.
pub fn write_shares(
    registry: &baocao_core::Registry,
    targets: &[&baocao_core::UnitVersion],
    (after, before): (chrono::NaiveDate, chrono::NaiveDate),
    path: &Path,
) {
    let mut shares = String::from("target,source,weight,estimated\n");
    for target in targets {
        for c in baocao_core::restate::contributions(registry, &target.code, after, before).unwrap() {
            shares.push_str(&format!("{},{},{},{}\n", target.code, c.unit.code, c.weight, c.estimated));
        }
    }
    std::fs::write(path, shares).unwrap();
}
