//! The cutover of the whole demo province with its history: `baocao serve
//! --demo` prepares the database (the national reform, the demo province's
//! reports and two years of values, the demo accounts), then each step is a
//! whole `baocao` process as an operator runs it: check, dry run, apply
//! (backup, the transaction, a BagIt package and handover record for every
//! dissolved unit of the province), verify, and the packages validated
//! again on their own.
//!
//! `cargo bench -p baocao --bench cutover`.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Instant;

fn baocao(db: &str, dir: &std::path::Path, args: &[&str]) -> f64 {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_baocao"))
        .arg("--db")
        .arg(db)
        .args(args)
        .current_dir(dir)
        .env("CI", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    t.elapsed().as_secs_f64()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("demo.db").display());
    // The demo prepares its data, then serves: stop it once it serves.
    let mut server = Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", &db, "serve", "--demo", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let serving = std::io::BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.contains("serving on "));
    assert!(serving, "the demo starts");
    server.kill().unwrap();
    server.wait().unwrap();

    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/demo");
    std::fs::copy(data.join("form-bm01.toml"), dir.path().join("form-2025.toml")).unwrap();
    let regime = std::fs::read_to_string(data.join("regime-monthly.toml"))
        .unwrap()
        .replace("[units]", "[units]\nunder = \"51\"");
    std::fs::write(dir.path().join("regime.toml"), regime).unwrap();
    std::fs::write(
        dir.path().join("plan.toml"),
        "key = \"demo-2025\"\nname = \"Chuyển đổi tỉnh demo\"\neffective_date = \"01/07/2025\"\nscope = \"51\"\n\
         source_organization = \"Văn phòng UBND tỉnh\"\nreorganization = \"vn-2025-two-level\"\n\
         forms = [\"form-2025.toml\"]\nregimes = [\"regime.toml\"]\n",
    )
    .unwrap();
    let d = dir.path();
    // The demo has run its province's cutover already: undone first (it
    // began no unit or form, so nothing depends on it), so that the one
    // measured here finds the province as it was on 30/06/2025.
    baocao(&db, d, &["cutover", "rollback", "demo-51-2025"]);
    let check = baocao(&db, d, &["cutover", "check", "plan.toml"]);
    let dry = baocao(&db, d, &["cutover", "dry-run", "plan.toml"]);
    let apply = baocao(&db, d, &["cutover", "apply", "plan.toml"]);
    let again = baocao(&db, d, &["cutover", "apply", "plan.toml"]);
    let verify = baocao(&db, d, &["cutover", "verify", "demo-2025"]);
    let bags = d.join("luu-tru/demo-2025");
    let count = std::fs::read_dir(&bags).unwrap().filter(|e| e.as_ref().unwrap().path().is_dir()).count();
    let archive = baocao(&db, d, &["archive", "verify", bags.to_str().unwrap()]);
    let size: u64 = walk(&bags);
    println!(
        "SQLite demo province: check {check:.2} s, dry run {dry:.2} s, apply {apply:.2} s ({count} packages, {:.1} MiB), \
         apply again {again:.2} s, verify {verify:.2} s, archive verify {archive:.2} s",
        size as f64 / 1_048_576.0
    );
}

fn walk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() { walk(&path) } else { path.metadata().unwrap().len() }
        })
        .sum()
}
