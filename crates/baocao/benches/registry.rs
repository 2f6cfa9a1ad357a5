//! Benchmarks of the registry, run with `cargo bench -p baocao --bench registry`.
//!
//! - `load-2025`: `baocao registry load-2025` as a user runs it (a whole
//!   process, fresh database each time), beside a bare bulk load of the same
//!   four CSV files into plain tables: `sqlite3 .import` and `psql \copy`;
//!   and, on SQLite, the floor of any loader into baocao's schema: the
//!   `sqlite3` shell creating that schema and inserting, from CSV, exactly
//!   the rows baocao stores (`floor-sqlite.sql`).
//! - `units-under-51`: the query behind `registry units --at --under 51`.
//!
//! PostgreSQL is measured when `BAOCAO_BENCH_POSTGRES` names a server, e.g.
//! `postgres://postgres@127.0.0.1:5432`; each iteration gets a fresh
//! database, created outside the measured time: once empty (the load
//! migrates it, as a first run does), once migrated (as an installed
//! server's is).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use baocao_core::parse_date;
use baocao_ingest::vn_admin::Sources;
use baocao_store::Db;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

fn run(cmd: &mut Command) {
    let out = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output().expect("the command starts");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn baocao_load(url: &str) {
    let dir = data();
    run(Command::new(env!("CARGO_BIN_EXE_baocao"))
        .env("CI", "1")
        .args(["--db", url, "registry", "load-2025"])
        .arg(dir.join("vn-admin"))
        .arg("--supplement")
        .arg(dir.join("supplements/special-zones-2025.csv")));
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches").join(name)
}

static DATABASES: AtomicU32 = AtomicU32::new(0);

/// A fresh PostgreSQL database on `server`; returns its URL and name.
fn fresh_pg(server: &str) -> (String, String) {
    let name = format!("baocao_bench_{}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::Relaxed));
    run(Command::new("psql").arg(format!("{server}/postgres")).args(["-qc", &format!("CREATE DATABASE {name}")]));
    (format!("{server}/{name}"), name)
}

fn drop_pg(server: &str, name: &str) {
    run(Command::new("psql")
        .arg(format!("{server}/postgres"))
        .args(["-qc", &format!("DROP DATABASE IF EXISTS {name}")]));
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load-2025");
    group.sample_size(10);
    group.bench_function("baocao sqlite", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| baocao_load(&format!("sqlite:{}", dir.path().join("b.db").display())),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("bare sqlite3 .import", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| {
                run(Command::new("sqlite3")
                    .arg(dir.path().join("bare.db"))
                    .arg(format!(".read {}", script("bare-sqlite.sql").display()))
                    .current_dir(data().join("vn-admin")))
            },
            BatchSize::PerIteration,
        )
    });
    let rows = floor_rows();
    group.bench_function("floor sqlite3, baocao's schema", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let db = dir.path().join("floor.db");
                run(Command::new("sqlite3")
                    .arg(&db)
                    .args([".read schema.sql", ".read floor-sqlite.sql"])
                    .current_dir(rows.path()));
            },
            BatchSize::PerIteration,
        )
    });
    if let Ok(server) = std::env::var("BAOCAO_BENCH_POSTGRES") {
        let server = server.trim_end_matches('/').to_string();
        group.bench_function("baocao postgres", |b| {
            b.iter_batched(
                || fresh_pg(&server),
                |(url, name)| {
                    baocao_load(&url);
                    name
                },
                BatchSize::PerIteration,
            )
        });
        // An installed server's database is migrated once, when it is
        // installed or upgraded (`baocao migrate`): a load into it is the
        // load alone, its schema already there as the bare tables are
        // there for `\copy` (whose script creates them, four plain tables).
        group.bench_function("baocao postgres, migrated database", |b| {
            b.iter_batched(
                || {
                    let (url, name) = fresh_pg(&server);
                    run(Command::new(env!("CARGO_BIN_EXE_baocao")).env("CI", "1").args(["--db", &url, "migrate"]));
                    (url, name)
                },
                |(url, name)| {
                    baocao_load(&url);
                    name
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("bare psql \\copy", |b| {
            b.iter_batched(
                || fresh_pg(&server),
                |(url, name)| {
                    run(Command::new("psql")
                        .arg(&url)
                        .args(["-q", "-f"])
                        .arg(script("bare-postgres.sql"))
                        .current_dir(data().join("vn-admin")));
                    name
                },
                BatchSize::PerIteration,
            )
        });
        // The databases are dropped after the group, outside measured time.
        for i in 0..DATABASES.load(Ordering::Relaxed) {
            drop_pg(&server, &format!("baocao_bench_{}_{i}", std::process::id()));
        }
    }
    group.finish();
}

/// A directory with what the floor run reads: the schema (baocao's SQLite
/// migrations in order, on baocao's journal and sync settings), the script, and
/// the rows of a national load exported from a database baocao loaded.
fn floor_rows() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let loaded = dir.path().join("loaded.db");
    baocao_load(&format!("sqlite:{}", loaded.display()));
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../baocao-store/migrations/sqlite");
    let mut files: Vec<PathBuf> = std::fs::read_dir(migrations).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut schema =
        String::from("PRAGMA journal_mode = WAL;\nPRAGMA synchronous = FULL;\nPRAGMA foreign_keys = ON;\n");
    // One transaction per migration, as sqlx applies them.
    for file in files {
        schema.push_str(&format!("BEGIN;\n{}\nCOMMIT;\n", std::fs::read_to_string(file).unwrap()));
    }
    std::fs::write(dir.path().join("schema.sql"), schema).unwrap();
    std::fs::copy(script("floor-sqlite.sql"), dir.path().join("floor-sqlite.sql")).unwrap();
    for (file, query) in [
        (
            "units.csv",
            "SELECT id, code, name, search_name, kind, level, parent_code, valid_from, valid_to, created_by, \
             ended_by, archive_note, agency_kind, area_code FROM units ORDER BY id",
        ),
        ("lineage.csv", "SELECT id, predecessor_id, successor_id, 1, partial, weight FROM lineage ORDER BY id"),
    ] {
        let out = Command::new("sqlite3").args(["-csv"]).arg(&loaded).arg(query).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::write(dir.path().join(file), out.stdout).unwrap();
    }
    dir
}

fn units_under(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut dbs = vec![("sqlite", format!("sqlite:{}", dir.path().join("q.db").display()), None)];
    if let Ok(server) = std::env::var("BAOCAO_BENCH_POSTGRES") {
        let server = server.trim_end_matches('/').to_string();
        let (url, name) = fresh_pg(&server);
        dbs.push(("postgres", url, Some((server, name))));
    }
    let mut group = c.benchmark_group("units-under-51");
    for (backend, url, _) in &dbs {
        let db = rt.block_on(async {
            let db = Db::connect(url).await.unwrap();
            let reform = Sources::bundled().read().unwrap();
            db.apply_reorganization(reform.baseline, &reform.reorganization, false, "test", &|_| {}).await.unwrap();
            db
        });
        for day in ["2025-06-30", "2025-07-01"] {
            let at = parse_date(day).unwrap();
            group.bench_function(format!("{backend} at {day}"), |b| {
                b.iter(|| rt.block_on(db.units_at(at, Some("51"), None)).unwrap())
            });
        }
        rt.block_on(db.close());
    }
    group.finish();
    for (_, _, pg) in dbs {
        if let Some((server, name)) = pg {
            drop_pg(&server, &name);
        }
    }
}

criterion_group!(benches, load, units_under);
criterion_main!(benches);
