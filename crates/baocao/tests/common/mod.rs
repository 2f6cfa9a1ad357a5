//! A server on a real socket over a fresh database holding the national
//! reform, the demo indicators, forms and regime, and one account per role.

#![allow(dead_code)] // each test binary uses its own part of the fixture

use std::collections::HashMap;

use baocao_core::access::{Grant, Permission, Role};
use baocao_credentials::{hash_password, new_token, token_hash};
use baocao_ingest::vn_admin::Sources;
use baocao_server::{AppState, Settings, router};
use baocao_testkit::TestDb;
use serde_json::Value;

/// The password of the accounts that sign in with one.
pub const PASSWORD: &str = "mat-khau-thu-nghiem";

/// The fixture's accounts: name, role, unit (none: the whole system), and
/// whether it has a password (hashing is slow in debug builds).
pub const PEOPLE: [(&str, Role, Option<&str>, bool); 6] = [
    ("admin", Role::SystemAdmin, None, false),
    ("ngokbay", Role::DataEntry, Some("23317"), true),
    ("sathay", Role::DataEntry, Some("23527"), false),
    ("approver", Role::Approver, Some("51"), true),
    ("viewer", Role::Viewer, Some("51"), false),
    ("unitadmin", Role::UnitAdmin, Some("23317"), false),
];

pub struct App {
    pub base: String,
    /// Does not follow redirects, so that tests see them.
    pub client: reqwest::Client,
    pub db: TestDb,
    tokens: HashMap<&'static str, String>,
}

pub async fn answer(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The cells of a downloaded workbook's form sheet, as text (numbers in
/// the interchange form, `1234.5`), row by row.
pub fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    named_sheet(bytes, baocao_ingest::xlsx::FORM_SHEET)
}

/// The cells of the sheet `name` of a downloaded workbook, as text.
pub fn named_sheet(bytes: &[u8], name: &str) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let range = book.worksheet_range(name).unwrap_or_else(|e| panic!("the sheet «{name}»: {e}"));
    range.rows().map(|row| row.iter().map(|c| c.to_string()).collect()).collect()
}

/// The row of a sheet whose cell `column` reads `text` (trimmed).
pub fn sheet_row<'s>(sheet: &'s [Vec<String>], column: usize, text: &str) -> &'s [String] {
    sheet
        .iter()
        .find(|r| r.get(column).is_some_and(|c| c.trim() == text))
        .unwrap_or_else(|| panic!("no row «{text}» in {sheet:#?}"))
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The API token of one of the fixture's accounts.
    pub fn token(&self, who: &str) -> &str {
        &self.tokens[who]
    }

    fn with(&self, who: Option<&str>, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match who {
            Some(who) => req.bearer_auth(&self.tokens[who]),
            None => req,
        }
    }

    /// One more account with one grant and an API token, for a test that
    /// needs someone the fixture's people are not.
    pub async fn add_person(&mut self, name: &'static str, role: Role, unit: Option<&str>) {
        let db = &self.db.db;
        db.create_account("test", name, &format!("Người dùng {name}"), None).await.unwrap();
        let grant = Grant { role, unit: unit.map(Into::into), forms: vec![], validity: Default::default() };
        db.add_grant("test", name, &grant).await.unwrap();
        let token = new_token();
        db.create_token("test", name, "tests", &token_hash(&token), &Permission::ALL).await.unwrap();
        self.tokens.insert(name, token);
    }

    /// GET as the system administrator.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(Some("admin"), path).await
    }

    pub async fn get_as(&self, who: Option<&str>, path: &str) -> (u16, Value) {
        answer(self.with(who, self.client.get(self.url(path))).send().await.unwrap()).await
    }

    /// A GET as `who` (by API token): its status and body as text (a page).
    pub async fn text_as(&self, who: &str, path: &str) -> (u16, String) {
        let res = self.with(Some(who), self.client.get(self.url(path))).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// A GET as `who` (by API token): its body as bytes (a workbook).
    pub async fn bytes_as(&self, who: &str, path: &str) -> Vec<u8> {
        let res = self.with(Some(who), self.client.get(self.url(path))).send().await.unwrap();
        res.bytes().await.unwrap().to_vec()
    }

    /// POST as the system administrator.
    pub async fn post(&self, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        self.post_as(Some("admin"), path, content_type, body).await
    }

    pub async fn post_as(&self, who: Option<&str>, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        let req = self.client.post(self.url(path)).header("content-type", content_type).body(body.to_string());
        answer(self.with(who, req).send().await.unwrap()).await
    }

    /// Signs in through the sign-in form; the session cookie on success.
    pub async fn sign_in(&self, username: &str, password: &str, cookie: Option<&str>) -> Option<String> {
        let mut req =
            self.client.post(self.url("/login")).form(&[("username", username), ("password", password), ("next", "/")]);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16() == 303).then(|| session_cookie(&res)).flatten()
    }
}

/// The `name=value` of the session cookie a response sets.
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("baocao_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

pub async fn spawn() -> App {
    spawn_with(|_| {}).await
}

/// [`spawn`] with settings changed by `adjust` (a policy under test).
pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> App {
    let t = TestDb::new().await;
    let reform = Sources::bundled().read().unwrap();
    t.db.apply_reorganization(reform.baseline, &reform.reorganization, false, "test", &|_| {}).await.unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/indicators.csv");
    let indicators = baocao_ingest::indicators::read_csv(path, &std::fs::read_to_string(path).unwrap()).unwrap();
    t.db.import_indicators("test", &indicators).await.unwrap();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/");
    for file in ["form-bm01-2024.toml", "form-bm01.toml"] {
        let text = std::fs::read_to_string(format!("{demo}{file}")).unwrap();
        let form: baocao_core::form::Form = baocao_ingest::definitions::read_toml(file, &text).unwrap();
        t.db.save_form("test", &form).await.unwrap();
    }
    let text = std::fs::read_to_string(format!("{demo}regime-monthly.toml")).unwrap();
    let mut regime: baocao_core::regime::Regime = baocao_ingest::definitions::read_toml("regime", &text).unwrap();
    regime.units.under = Some("51".into());
    t.db.save_regime("test", &regime).await.unwrap();
    for file in ["form-th01.toml", "form-th02.toml"] {
        let text = std::fs::read_to_string(format!("{demo}{file}")).unwrap();
        let form: baocao_core::form::Form = baocao_ingest::definitions::read_toml(file, &text).unwrap();
        t.db.save_form("test", &form).await.unwrap();
    }
    let mut tokens = HashMap::new();
    for (name, role, unit, with_password) in PEOPLE {
        let hash = with_password.then(|| hash_password(PASSWORD));
        t.db.create_account("test", name, &format!("Người dùng {name}"), hash.as_deref()).await.unwrap();
        let grant = Grant { role, unit: unit.map(Into::into), forms: vec![], validity: Default::default() };
        t.db.add_grant("test", name, &grant).await.unwrap();
        let token = new_token();
        t.db.create_token("test", name, "tests", &token_hash(&token), &Permission::ALL).await.unwrap();
        tokens.insert(name, token);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut settings = Settings {
        demo: true,
        home_province: Some("51".into()),
        mail_domain: Some("qn.gov.vn".into()),
        ..Default::default()
    };
    adjust(&mut settings);
    let app = router(AppState::new(t.db.clone(), settings));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    App { base, client, db: t, tokens }
}

/// `baocao serve` as a process of its own on a database, killed when the
/// test ends however it ends.
pub struct Process {
    child: std::process::Child,
    pub base: String,
}

impl Process {
    /// Starts the server on `url` and waits until it says where it listens.
    pub async fn serve(url: &str) -> Process {
        Self::start(&["--db", url, "serve", "--listen", "127.0.0.1:0"])
    }

    /// Starts `baocao` with `args` (a `serve` command) and waits for its URL.
    pub fn start(args: &[&str]) -> Process {
        Self::start_with(args, &[])
    }

    /// [`Process::start`] with more environment variables.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Process {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_baocao"))
            .args(args)
            .envs(env.iter().copied())
            .env("CI", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.split("serving on ").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_string));
        // The rest of what it prints is not read; a thread drains it so the
        // server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let base = url.expect("the server prints its URL").trim_end_matches('/').to_string();
        Process { child, base }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (up to half a minute) for the process to end by itself.
    pub fn wait(mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "the process did not end");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The most memory the process has held (VmHWM), in KiB.
    pub fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/PID/status");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small file system of its own (a tmpfs), to fill up or make read-only;
/// unmounted when dropped. Mounting needs root: `None` otherwise, and the
/// test says it did not run (CI runs as root).
pub struct SmallDisk {
    pub dir: tempfile::TempDir,
}

impl SmallDisk {
    pub fn mount(mebibytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mebibytes}m"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("NOT RUN: mounting a tmpfs needs root; this fault test runs in CI, as root");
            return None;
        }
        Some(SmallDisk { dir })
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Fills the disk with one file until it is full; returns the file.
    pub fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 << 10];
        while file.write_all(&block).is_ok() {}
        // What is left is less than a block: fill it too.
        while file.write_all(&[0u8; 512]).is_ok() {}
        let _ = file.sync_all();
        path
    }

    /// Mounts the file system again, read-only or not.
    pub fn read_only(&self, read_only: bool) {
        let option = if read_only { "remount,ro" } else { "remount,rw" };
        // Files another process was writing are let go of a moment after it
        // ends: until then the file system is busy.
        for _ in 0..50 {
            let status = std::process::Command::new("mount").args(["-o", option]).arg(self.path()).status().unwrap();
            if status.success() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("mount -o {option} {}", self.path().display());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}
