//! Analytics through baocao's own commands against DuckDB, on the same rows
//! and the same shares, answers compared cell by cell (issue 18).
//!
//! Setup, not timed: a fresh database (SQLite; PostgreSQL too when
//! `BAOCAO_BENCH_POSTGRES` names a server) with the national registry and
//! 100 summed indicators; a DHIS2 CSV file of values for every lowest unit
//! of provinces 51 and 62 as they stood on 30/06/2025, `BENCH_MONTHS` months
//! up to 06/2025 (60 by default, ≈ 1.6 M values); the shares of the 2025
//! structure (each unit of Quảng Ngãi on 01/07/2025, each old unit it is
//! made of, the share and whether the share is estimated), written from
//! baocao's registry for DuckDB. DuckDB (`pip install duckdb`; the Python
//! named by `BAOCAO_BENCH_PYTHON`, `python3` by default) gets the same
//! CSV file and the same shares.
//!
//! Questions, each side a process timed whole (start, reading, answer
//! written as CSV), `BENCH_RUNS` runs each (5), interleaved:
//! 1. import the values file (baocao `data import`; DuckDB `read_csv` into
//!    a table of a database file), each run into a fresh database;
//! 2. one new commune's series of one indicator over every month, in the
//!    2025 structure (`data export --structure-at … --org-unit 23317
//!    --indicator CT005`);
//! 3. the province and every unit under it, every month × 100 indicators,
//!    in the 2025 structure (`data export --structure-at … --org-unit 51
//!    --children`).
//!
//! Not exercised: values of reports (the counting rule's subquery has no
//! report to look at), agencies' filed figures, formulas, access filtering.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use baocao_core::parse_date;
use baocao_store::Db;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `cmd` under `/usr/bin/time`; its wall time and peak memory (MiB).
fn timed(cmd: &mut Command, stdout: Option<&Path>) -> (f64, f64) {
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

fn baocao(url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baocao"));
    cmd.env("CI", "1").args(["--db", url]).args(args);
    cmd
}

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

fn setup(url: &str, indicators: &Path) {
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

struct Runs(Vec<(f64, f64)>);

impl Runs {
    fn line(&self, who: &str) -> String {
        let mut t: Vec<f64> = self.0.iter().map(|r| r.0).collect();
        t.sort_by(f64::total_cmp);
        let peak = self.0.iter().map(|r| r.1).fold(0.0, f64::max);
        format!("| {who} | {:.3} | {:.3} | {:.3} | {peak:.0} |", t[0], t[t.len() / 2], t[t.len() - 1])
    }
}

fn main() {
    let (months, runs) = (env("BENCH_MONTHS", 60), env("BENCH_RUNS", 5));
    let python = std::env::var("BAOCAO_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/analytics_duckdb.py");
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let path = |name: &str| file(name).display().to_string();

    let indicators = file("indicators.csv");
    let mut text = String::from("code,name,unit,value_type,aggregation,group,formula\n");
    for i in 0..100 {
        text.push_str(&format!("CT{i:03},Chỉ tiêu {i},đơn vị,number,sum,Thử,\n"));
    }
    std::fs::write(&indicators, text).unwrap();

    // The template SQLite database, copied for every fresh SQLite run.
    let template = path("template.db");
    setup(&format!("sqlite:{template}"), &indicators);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let registry = rt.block_on(async {
        let db = Db::connect(&format!("sqlite:{template}")).await.unwrap();
        let registry = db.load_registry().await.unwrap();
        db.close().await;
        registry
    });
    let before = parse_date("2025-06-30").unwrap();
    let after = parse_date("2025-07-01").unwrap();
    let mut sources = registry.leaves_under("51", before).unwrap();
    sources.extend(registry.leaves_under("62", before).unwrap());
    let periods = baocao_core::Period::ending_between(
        baocao_core::Periodicity::Monthly,
        after - chrono::Months::new(months as u32),
        before,
    );
    assert_eq!(periods.len(), months);
    let (first, last) = (periods[0].to_string(), periods[months - 1].to_string());
    let mut values = String::from("dataelement,period,orgunit,catoptcombo,attroptcombo,value\n");
    for (s, unit) in sources.iter().enumerate() {
        for i in 0..100 {
            for (m, p) in periods.iter().enumerate() {
                values.push_str(&format!("CT{i:03},{p},{},,,{}\n", unit.code, (s * 31 + i * 17 + m * 7) % 1000));
            }
        }
    }
    std::fs::write(file("values.csv"), values).unwrap();
    let mut shares = String::from("target,source,weight,estimated\n");
    for target in registry.units_of_area(Some("51"), true, after).unwrap() {
        for c in baocao_core::restate::contributions(&registry, &target.code, after, before).unwrap() {
            shares.push_str(&format!("{},{},{},{}\n", target.code, c.unit.code, c.weight, c.estimated));
        }
    }
    std::fs::write(file("shares.csv"), shares).unwrap();
    println!(
        "{} old units × 100 indicators × {months} months = {} values; {} units of Quảng Ngãi on 01/07/2025",
        sources.len(),
        sources.len() * 100 * months,
        registry.units_of_area(Some("51"), true, after).unwrap().len()
    );

    let mut backends = vec![("SQLite".to_string(), None)];
    if let Ok(server) = std::env::var("BAOCAO_BENCH_POSTGRES") {
        backends.push(("PostgreSQL".to_string(), Some(server.trim_end_matches('/').to_string())));
    }
    let duck = |args: &[&str]| {
        let mut cmd = Command::new(&python);
        cmd.arg(&script).args(args);
        cmd
    };
    let fresh_pg = |server: &str, n: usize| {
        let name = format!("baocao_analytics_{}_{n}", std::process::id());
        let admin = format!("{server}/postgres");
        timed(
            Command::new("psql").args([&admin, "-qc", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")]),
            None,
        );
        timed(Command::new("psql").args([&admin, "-qc", &format!("CREATE DATABASE {name}")]), None);
        format!("{server}/{name}")
    };

    // 1. The import, each run into a fresh database.
    let mut lines = vec![format!("import of {} values", sources.len() * 100 * months)];
    let mut duck_import = Runs(Vec::new());
    let mut imports: Vec<Runs> = backends.iter().map(|_| Runs(Vec::new())).collect();
    let mut urls: Vec<String> = Vec::new();
    for run in 0..runs {
        for (b, (_, server)) in backends.iter().enumerate() {
            let url = match server {
                None => {
                    std::fs::copy(&template, file(&format!("run{run}.db"))).unwrap();
                    format!("sqlite:{}", path(&format!("run{run}.db")))
                }
                Some(server) => {
                    let url = fresh_pg(server, run);
                    setup(&url, &indicators);
                    url
                }
            };
            imports[b].0.push(timed(&mut baocao(&url, &["data", "import", &path("values.csv")]), None));
            if run == runs - 1 {
                urls.push(url);
            }
        }
        let _ = std::fs::remove_file(file("duck.db"));
        duck_import.0.push(timed(&mut duck(&["import", &path("duck.db"), &path("values.csv")]), None));
    }
    for (b, (name, _)) in backends.iter().enumerate() {
        lines.push(imports[b].line(&format!("baocao `data import`, {name}")));
    }
    lines.push(duck_import.line("DuckDB `read_csv` into a table"));

    // 2 and 3. The series and the province, answers compared.
    for (title, unit, children, indicator) in [
        ("one new commune's series (23317, CT005)", "23317", false, Some("CT005")),
        ("Quảng Ngãi and every unit under it, 100 indicators", "51", true, None),
    ] {
        let mut args =
            vec!["data", "export", "--structure-at", "2025-07-01", "--from", &first, "--to", &last, "--org-unit", unit];
        if children {
            args.push("--children");
        }
        if let Some(indicator) = indicator {
            args.extend(["--indicator", indicator]);
        }
        args.extend(["--format", "csv"]);
        let targets = if children { "all" } else { unit };
        let duck_args = [
            "table",
            &path("duck.db"),
            &path("shares.csv"),
            targets,
            &first,
            &last,
            indicator.unwrap_or("all"),
            &path("duck.csv"),
        ];
        let mut ours: Vec<Runs> = backends.iter().map(|_| Runs(Vec::new())).collect();
        let mut theirs = Runs(Vec::new());
        for _ in 0..runs {
            theirs.0.push(timed(&mut duck(&duck_args), None));
            let expected = answer(&file("duck.csv"), DUCKDB);
            for (b, url) in urls.iter().enumerate() {
                ours[b].0.push(timed(&mut baocao(url, &args), Some(&file("ours.csv"))));
                same(&answer(&file("ours.csv"), BAOCAO), &expected);
            }
        }
        let cells = answer(&file("ours.csv"), BAOCAO).len();
        lines.push(format!("{title}: {cells} figures, equal cell by cell"));
        for (b, (name, _)) in backends.iter().enumerate() {
            lines.push(ours[b].line(&format!("baocao `data export --structure-at`, {name}")));
        }
        lines.push(theirs.line("DuckDB, a join and a GROUP BY"));
    }
    println!("| question / side | min s | median s | max s | peak MiB |");
    for line in lines {
        if line.starts_with('|') {
            println!("{line}");
        } else {
            println!("| **{line}** | | | | |");
        }
    }
    for (_, server) in &backends {
        if let Some(server) = server {
            for run in 0..runs {
                let name = format!("baocao_analytics_{}_{run}", std::process::id());
                timed(
                    Command::new("psql").args([
                        &format!("{server}/postgres"),
                        "-qc",
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ]),
                    None,
                );
            }
        }
    }
}
