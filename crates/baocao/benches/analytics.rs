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

use baocao_core::parse_date;

#[path = "shared/processes.rs"]
mod processes;
use processes::{
    Runs, ask, baocao, drop_postgres, duckdb, env, fresh_postgres, indicators_file, print_table, registry_of, setup,
    timed, write_shares,
};

fn main() {
    let (months, runs) = (env("BENCH_MONTHS", 60), env("BENCH_RUNS", 5));
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let path = |name: &str| file(name).display().to_string();

    let indicators = file("indicators.csv");
    indicators_file(&indicators);

    // The template SQLite database, copied for every fresh SQLite run.
    let template = path("template.db");
    setup(&format!("sqlite:{template}"), &indicators);
    let registry = registry_of(&format!("sqlite:{template}"));
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
    let targets = registry.units_of_area(Some("51"), true, after).unwrap();
    write_shares(&registry, &targets, (after, before), &file("shares.csv"));
    println!(
        "{} old units × 100 indicators × {months} months = {} values; {} units of Quảng Ngãi on 01/07/2025",
        sources.len(),
        sources.len() * 100 * months,
        targets.len()
    );

    let mut backends = vec![("SQLite".to_string(), None)];
    if let Ok(server) = std::env::var("BAOCAO_BENCH_POSTGRES") {
        backends.push(("PostgreSQL".to_string(), Some(server.trim_end_matches('/').to_string())));
    }
    let name = |run: usize| format!("baocao_analytics_{}_{run}", std::process::id());
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
                    let url = fresh_postgres(server, &name(run));
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
        duck_import.0.push(timed(&mut duckdb(&["import", &path("duck.db"), &path("values.csv")]), None));
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
        let databases: Vec<(&str, &str)> =
            backends.iter().zip(&urls).map(|((name, _), url)| (name.as_str(), url.as_str())).collect();
        let question = (title, "data export --structure-at");
        lines.extend(ask(runs, &duck_args, &file("duck.csv"), &databases, &args, &file("ours.csv"), question));
    }
    print_table(&lines);
    for (_, server) in &backends {
        if let Some(server) = server {
            for run in 0..runs {
                drop_postgres(server, &name(run));
            }
        }
    }
}
