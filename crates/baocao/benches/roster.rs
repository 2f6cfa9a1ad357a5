//! Importing a roster of 20,000 officials and planning their accounts, on
//! SQLite (and PostgreSQL with BAOCAO_BENCH_POSTGRES=postgres://user@host:port),
//! each step a whole `baocao` process as an operator runs it.
//!
//! `cargo bench -p baocao --bench roster`; BENCH_PEOPLE changes the size.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

const FAMILIES: [&str; 14] =
    ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"];
const MIDDLES: [&str; 8] = ["Văn", "Thị", "Hữu", "Đức", "Thanh", "Minh", "Ngọc", "Quốc"];
const GIVENS: [&str; 24] = [
    "An", "Anh", "Bình", "Chi", "Cường", "Dũng", "Dương", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
    "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Ngọc", "Phúc", "Tâm",
];
const AGENCIES: usize = 130;

fn baocao(db: &str, args: &[&str]) -> f64 {
    let t = Instant::now();
    let out =
        Command::new(env!("CARGO_BIN_EXE_baocao")).arg("--db").arg(db).args(args).env("CI", "1").output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    t.elapsed().as_secs_f64()
}

fn run(label: &str, db: &str, dir: &std::path::Path, people: usize) {
    // Agencies serve units of the registry: the national registry first
    // (not timed).
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let (lists, supplement) = (data.join("vn-admin"), data.join("supplements/special-zones-2025.csv"));
    baocao(db, &["registry", "load-2025", lists.to_str().unwrap(), "--supplement", supplement.to_str().unwrap()]);
    let agencies = dir.join("agencies.csv");
    let roster = dir.join("roster.csv");
    let import_agencies = baocao(db, &["agencies", "import", agencies.to_str().unwrap()]);
    let import = baocao(db, &["roster", "import", roster.to_str().unwrap(), "--from", "01/07/2025"]);
    let common = ["--at", "01/07/2025", "--domain", "tinh.gov.vn", "--format", "csv"];
    let email = baocao(db, &[&["accounts", "plan", "--system", "email"][..], &common].concat());
    let plan = baocao(db, &[&["accounts", "plan", "--system", "baocao"][..], &common].concat());
    let apply =
        baocao(db, &["accounts", "apply", "--system", "baocao", "--at", "01/07/2025", "--domain", "tinh.gov.vn"]);
    let again = baocao(db, &["roster", "import", roster.to_str().unwrap(), "--from", "01/07/2025"]);
    println!(
        "{label:<10} {people} people: agencies {import_agencies:.2} s, roster import {import:.2} s, \
         email plan {email:.2} s, baocao plan {plan:.2} s, apply {apply:.2} s, same roster again {again:.2} s"
    );
}

fn main() {
    let people: usize = std::env::var("BENCH_PEOPLE").ok().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let mut agencies = String::from("code,name,kind,unit_code\n");
    for a in 0..AGENCIES {
        writeln!(agencies, "A{a:03},Cơ quan {a},UBND xã,51").unwrap();
    }
    std::fs::write(dir.path().join("agencies.csv"), agencies).unwrap();
    let mut roster = String::from("agency_code,full_name,birth_date,gender,position,post,email,phone,roles\n");
    for i in 0..people {
        let name = format!(
            "{} {} {}",
            FAMILIES[i % FAMILIES.len()],
            MIDDLES[(i / FAMILIES.len()) % MIDDLES.len()],
            GIVENS[(i * 7 / 3) % GIVENS.len()]
        );
        let born = format!("{:02}/{:02}/{}", 1 + i % 28, 1 + (i / 28) % 12, 1960 + (i / 336) % 40);
        let role = ["baocao:data_entry", "baocao:viewer", "", "baocao:approver"][i % 4];
        writeln!(roster, "A{:03},{name},{born},Nam,Công chức,Chuyên viên,,,{role}", i % AGENCIES).unwrap();
    }
    std::fs::write(dir.path().join("roster.csv"), roster).unwrap();
    let sqlite = format!("sqlite:{}", dir.path().join("bench.db").display());
    run("SQLite", &sqlite, dir.path(), people);
    if let Ok(server) = std::env::var("BAOCAO_BENCH_POSTGRES") {
        let name = format!("baocao_bench_roster_{}", std::process::id());
        let admin = format!("{}/postgres", server.trim_end_matches('/'));
        let psql = |sql: &str| Command::new("psql").arg(&admin).args(["-qc", sql]).status().unwrap();
        psql(&format!("CREATE DATABASE {name}"));
        run("PostgreSQL", &format!("{}/{name}", server.trim_end_matches('/')), dir.path(), people);
        psql(&format!("DROP DATABASE {name}"));
    }
}
