//! What a hostile upload costs the server: `cargo bench -p baocao --bench uploads`.
//!
//! `baocao serve` runs as a process of its own (so that its memory is its
//! own) on a fresh SQLite database with one data-entry account. Each
//! worst case is uploaded `BENCH_ROUNDS` times (default 5) as a commune's
//! report workbook through `POST /api/v1/reports/xlsx`, the path an officer
//! uses: the time to the refusal, its status, and the server's peak memory
//! (VmHWM) before and after. The cases: a workbook of about a megabyte that
//! unpacks to a gibibyte (a zip bomb), and the same with headers that say
//! it holds a thousand bytes or just under the 64 MiB limit (the most it
//! makes the server inflate); a workbook of two cells at opposite
//! corners of a sheet (17 billion cells as a grid); a body just over the
//! 16 MiB limit; and, for comparison, a real report workbook accepted.

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use baocao_core::access::{Grant, Permission, Role};
use baocao_credentials::token_hash;
use baocao_store::Db;

const TOKEN: &str = "bench-token-used-only-by-this-benchmark";

fn zip_bomb() -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    out.start_file("xl/sharedStrings.xml", options).unwrap();
    let zeros = vec![b'0'; 1 << 20];
    for _ in 0..1024 {
        out.write_all(&zeros).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// [`zip_bomb`] whose headers say its member is `declared` bytes: the
/// server must measure what it unpacks to, not trust what it declares.
fn lying_bomb(declared: u64) -> Vec<u8> {
    let mut bytes = zip_bomb();
    let u16_at = |b: &[u8], i: usize| usize::from(u16::from_le_bytes([b[i], b[i + 1]]));
    // Zip64: the uncompressed size is the first field of the zip64 extra
    // field (id 1) of the local header and of the central directory entry.
    let local = bytes.windows(4).position(|w| w == [0x50, 0x4b, 0x03, 0x04]).unwrap();
    let central = bytes.windows(4).position(|w| w == [0x50, 0x4b, 0x01, 0x02]).unwrap();
    for extra in [local + 30 + u16_at(&bytes, local + 26), central + 46 + u16_at(&bytes, central + 28)] {
        assert_eq!(u16_at(&bytes, extra), 1, "the zip64 extra field comes first");
        bytes[extra + 4..extra + 12].copy_from_slice(&declared.to_le_bytes());
    }
    bytes
}

fn grid_bomb() -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet().set_name(baocao_ingest::xlsx::INFO_SHEET).unwrap();
    sheet.write_string(0, 0, "regime").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    workbook.save_to_buffer().unwrap()
}

fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn upload(client: &reqwest::Client, base: &str, body: Vec<u8>) -> (u16, Duration) {
    let started = Instant::now();
    let res = client.post(format!("{base}/api/v1/reports/xlsx")).bearer_auth(TOKEN).body(body).send().await.unwrap();
    let status = res.status().as_u16();
    let _ = res.bytes().await;
    (status, started.elapsed())
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let db = Db::connect(&url).await.unwrap();
    let reform = baocao_ingest::vn_admin::Sources::bundled().read().unwrap();
    db.apply_reorganization(reform.baseline, &reform.reorganization, false, "bench", &|_| {}).await.unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/");
    let text = std::fs::read_to_string(format!("{root}indicators.csv")).unwrap();
    db.import_indicators("bench", &baocao_ingest::indicators::read_csv("indicators.csv", &text).unwrap())
        .await
        .unwrap();
    for file in ["form-bm01-2024.toml", "form-bm01.toml"] {
        let text = std::fs::read_to_string(format!("{root}{file}")).unwrap();
        db.save_form("bench", &baocao_ingest::definitions::read_toml(file, &text).unwrap()).await.unwrap();
    }
    let text = std::fs::read_to_string(format!("{root}regime-monthly.toml")).unwrap();
    db.save_regime("bench", &baocao_ingest::definitions::read_toml("regime", &text).unwrap()).await.unwrap();
    db.create_account("bench", "canbo", "Cán bộ xã", None).await.unwrap();
    let grant =
        Grant { role: Role::DataEntry, unit: Some("23317".into()), forms: vec![], validity: Default::default() };
    db.add_grant("bench", "canbo", &grant).await.unwrap();
    db.create_token("bench", "canbo", "bench", &token_hash(TOKEN), &Permission::ALL).await.unwrap();
    db.close().await;

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", &url, "serve", "--listen", "127.0.0.1:0"])
        .env("CI", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split("serving on ").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_string))
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    std::thread::spawn(move || lines.for_each(drop));
    let pid = child.id();
    let client = reqwest::Client::new();
    let template = client
        .get(format!("{base}/api/v1/reports/xlsx?regime=BC_THANG_TTHC&unit=23317&period=202508"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("the report's own workbook (accepted)", template),
        ("zip bomb: unpacks to 1 GiB", zip_bomb()),
        ("the same, its headers saying 1000 bytes", lying_bomb(1000)),
        ("the same, its headers saying 63 MiB", lying_bomb(63 << 20)),
        ("two cells at opposite corners", grid_bomb()),
        ("a body 1 byte over 16 MiB", vec![b'a'; baocao_server::body::LIMIT + 1]),
    ];
    println!("server peak memory at start: {} MiB", peak_kib(pid) / 1024);
    println!("{:<40} {:>10} {:>7} {:>22} {:>16}", "upload", "size", "status", "time (min–max)", "peak after");
    for (name, body) in cases {
        let mut times = Vec::new();
        let mut status = 0;
        for _ in 0..rounds {
            let (s, t) = upload(&client, &base, body.clone()).await;
            status = s;
            times.push(t);
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:<40} {:>8} KiB {status:>7} {:>9.1}–{:<9.1} ms {:>12} MiB",
            body.len() / 1024,
            ms(times[0]),
            ms(times[times.len() - 1]),
            peak_kib(pid) / 1024
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}
