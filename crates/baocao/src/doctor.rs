//! `baocao doctor`: what an operator checks before starting the service and
//! after anything changed — the configuration, the database and its
//! migrations, the mail server, disk space, backups, the clock and the
//! scheduled jobs — each said in Vietnamese and English. It reads and
//! greets, never changes anything, and exits non-zero when something would
//! keep `serve` from working.

use std::path::{Path, PathBuf};

use baocao_store::Db;
use clap::Args;
use serde::Serialize;

use crate::output::Format;
use crate::serve::ServeArgs;

#[derive(Args)]
pub struct DoctorArgs {
    /// The options `serve` would run with (from the command line, the
    /// environment or the configuration file).
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,
}

/// Free space below which the disk is a problem, and below which a warning.
const DISK_FAIL: u64 = 256 << 20;
const DISK_WARN: u64 = 2 << 30;

/// A clock further than this from the database server's is wrong enough to
/// misdate deadlines and lapse leases; closer than the warning, it is fine.
const SKEW_FAIL: f64 = 60.0;
const SKEW_WARN: f64 = 2.0;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
struct Finding {
    check: &'static str,
    level: Level,
    /// For the operator, in Vietnamese.
    vi: String,
    /// The same, in English.
    en: String,
}

#[derive(Default)]
struct Report(Vec<Finding>);

impl Report {
    fn add(&mut self, check: &'static str, level: Level, vi: impl Into<String>, en: impl Into<String>) {
        self.0.push(Finding { check, level, vi: vi.into(), en: en.into() });
    }
}

pub async fn run(db_arg: Option<String>, config: Option<&Path>, args: DoctorArgs) -> anyhow::Result<()> {
    let serve = &args.serve;
    let mut report = Report::default();
    match config {
        Some(path) => report.add(
            "config",
            Level::Ok,
            format!("đọc được tệp cấu hình {}", path.display()),
            format!("configuration file {} read", path.display()),
        ),
        None => report.add(
            "config",
            Level::Ok,
            "không dùng tệp cấu hình: chỉ dòng lệnh và biến môi trường",
            "no configuration file: the command line and the environment only",
        ),
    }
    match &serve.public_url {
        Some(url) => {
            report.add("public_url", Level::Ok, format!("địa chỉ trang: {url}"), format!("site address: {url}"))
        }
        None if !serve.demo => report.add(
            "public_url",
            Level::Warn,
            "chưa đặt public_url: liên kết trong thư sẽ dùng địa chỉ lắng nghe, cán bộ có thể không mở được",
            "public_url is not set: links in mail will use the listening address, which officials may not reach",
        ),
        None => {}
    }
    let url = crate::database_url(db_arg, if serve.demo { "sqlite:baocao-demo.db" } else { "sqlite:baocao.db" });
    let sqlite_file = url.strip_prefix("sqlite:").map(|p| PathBuf::from(p.split('?').next().unwrap_or(p)));
    let db = match &sqlite_file {
        Some(path) if !path.exists() => {
            report.add(
                "database",
                Level::Fail,
                format!("chưa có tệp cơ sở dữ liệu {}", path.display()),
                format!("the database file {} does not exist", path.display()),
            );
            None
        }
        _ => match Db::open(&url).await {
            Ok(db) => {
                report.add("database", Level::Ok, format!("mở được {url}"), format!("{url} opens"));
                Some(db)
            }
            Err(e) => {
                report.add(
                    "database",
                    Level::Fail,
                    format!("không mở được {url}: {e}"),
                    format!("{url} cannot be opened: {e}"),
                );
                None
            }
        },
    };
    if let Some(db) = &db {
        database(&mut report, db).await;
    }
    mail(&mut report, serve).await;
    if let Some(path) = &serve.signing_key {
        signing_key(&mut report, path, serve.trust_list.as_deref());
    }
    if let Some(path) = &serve.trust_list {
        match crate::serve::trust_list(path) {
            Ok(trust) => report.add(
                "trust_list",
                Level::Ok,
                format!("danh sách tin cậy có {} chứng thư", trust.len),
                format!("the trust list holds {} certificate(s)", trust.len),
            ),
            Err(e) => report.add(
                "trust_list",
                Level::Fail,
                format!("danh sách tin cậy không đọc được: {e:#}"),
                format!("the trust list cannot be read: {e:#}"),
            ),
        }
    }
    if let Some(db) = &db {
        upstream(&mut report, db).await;
        feeds(&mut report, db).await;
    }
    let mut places: Vec<PathBuf> = sqlite_file.iter().filter_map(|p| p.parent().map(Path::to_path_buf)).collect();
    places.extend(serve.backup_dir.iter().cloned());
    for place in places {
        disk(&mut report, &place);
    }
    backups(&mut report, serve.backup_dir.as_deref());
    if let Some(db) = db {
        db.close().await;
    }
    show(&report, args.format)?;
    if report.0.iter().any(|f| f.level == Level::Fail) {
        anyhow::bail!("có vấn đề cần xử lý trước khi chạy (something needs fixing first)");
    }
    Ok(())
}

/// The signing key opens, signs a probe (a token that opens may still
/// refuse to sign), and, with a trust list, its signature holds against it.
fn signing_key(report: &mut Report, path: &Path, trust: Option<&Path>) {
    const PROBE: &[u8] = b"baocao doctor";
    let checked = crate::serve::signing_key(path).and_then(|key| {
        let signature = key.sign_detached(PROBE)?;
        if let Some(trust) = trust.map(crate::serve::trust_list).and_then(Result::ok) {
            baocao_signing::verify_detached(&signature, PROBE, &trust)
                .map_err(|e| anyhow::anyhow!("chữ ký thử không hợp lệ theo danh sách tin cậy: {e}"))?;
        }
        Ok(key.subject())
    });
    match checked {
        Ok(subject) => report.add(
            "signing_key",
            Level::Ok,
            format!("khóa ký số mở được và ký thử được, ký với tên {subject}"),
            format!("the signing key opens and signs as {subject}"),
        ),
        Err(e) => report.add(
            "signing_key",
            Level::Fail,
            format!("khóa ký số không dùng được: {e:#}"),
            format!("the signing key cannot be used: {e:#}"),
        ),
    }
}

/// Each upstream system's key is where its link says (this environment,
/// or a file): without it, approved reports wait.
async fn upstream(report: &mut Report, db: &Db) {
    let Ok(links) = db.upstream_links().await else { return };
    for link in links {
        let place = link.secret_place();
        match baocao_ingest::upstream::secret(&link) {
            Ok(_) => report.add(
                "upstream",
                Level::Ok,
                format!("gửi lên {} ({}): có khóa trong {place}", link.code, link.url),
                format!("upstream {} ({}): its key is in place ({place})", link.code, link.url),
            ),
            Err(why) => report.add(
                "upstream",
                Level::Warn,
                format!("gửi lên {}: {why}, báo cáo đã duyệt sẽ chờ", link.code),
                format!("upstream {}: no key ({place}), approved reports will wait", link.code),
            ),
        }
    }
}

/// Each feed's key is in this environment, and its last run fetched.
async fn feeds(report: &mut Report, db: &Db) {
    let Ok(feeds) = db.feeds().await else { return };
    for state in feeds {
        let feed = &state.feed;
        if let Some(env) = feed.secret_env.as_ref().filter(|e| std::env::var_os(e).is_none()) {
            report.add(
                "feed",
                Level::Warn,
                format!("nguồn cấp {}: chưa đặt biến môi trường {env}, không lấy được số liệu", feed.code),
                format!("feed {}: {env} is not set, nothing can be fetched", feed.code),
            );
        } else if let Some(run) = state.last_run.as_ref().filter(|r| r.outcome == "failed") {
            let why = run.message.clone().unwrap_or_default();
            report.add(
                "feed",
                Level::Warn,
                format!("nguồn cấp {}: lần lấy gần nhất không được ({why})", feed.code),
                format!("feed {}: its last run failed ({why})", feed.code),
            );
        } else {
            report.add(
                "feed",
                Level::Ok,
                format!("nguồn cấp {} ({}): lấy mỗi {} phút", feed.code, feed.url, feed.every_minutes),
                format!("feed {} ({}): fetched every {} min", feed.code, feed.url, feed.every_minutes),
            );
        }
    }
}

/// Migrations, the clock against the database server's, the values'
/// partitions, scheduled jobs.
async fn database(report: &mut Report, db: &Db) {
    match db.migrations().await {
        Ok(m) if !m.failed.is_empty() || !m.unknown.is_empty() => report.add(
            "migrations",
            Level::Fail,
            format!(
                "lược đồ dở dang ({:?}) hoặc do phiên bản mới hơn tạo ({:?}): dùng đúng phiên bản baocao",
                m.failed, m.unknown
            ),
            format!("schema half-migrated ({:?}) or made by a newer baocao ({:?})", m.failed, m.unknown),
        ),
        Ok(m) if !m.pending.is_empty() => report.add(
            "migrations",
            Level::Warn,
            format!(
                "{} bước nâng cấp lược đồ chưa áp dụng ({}): chạy `baocao migrate --check` rồi `baocao migrate`",
                m.pending.len(),
                m.pending.join("; ")
            ),
            format!(
                "{} schema migrations pending: run `baocao migrate --check`, then `baocao migrate`",
                m.pending.len()
            ),
        ),
        Ok(m) => report.add(
            "migrations",
            Level::Ok,
            format!("lược đồ mới nhất ({} bước nâng cấp)", m.applied),
            format!("schema up to date ({} migrations)", m.applied),
        ),
        Err(e) => report.add(
            "migrations",
            Level::Fail,
            format!("không đọc được lược đồ: {e}"),
            format!("the schema cannot be read: {e}"),
        ),
    }
    match db.server_time().await {
        Ok(Some(server)) => {
            let skew = (chrono::Utc::now() - server).num_milliseconds().abs() as f64 / 1000.0;
            let level = if skew > SKEW_FAIL {
                Level::Fail
            } else if skew > SKEW_WARN {
                Level::Warn
            } else {
                Level::Ok
            };
            report.add(
                "clock",
                level,
                format!("đồng hồ máy lệch {skew:.1} giây so với máy chủ cơ sở dữ liệu"),
                format!("this machine's clock is {skew:.1} s from the database server's"),
            );
        }
        Ok(None) => {
            let now = chrono::Utc::now().with_timezone(&baocao_core::date::vietnam());
            report.add(
                "clock",
                Level::Ok,
                format!("giờ máy: {} (giờ Việt Nam); giữ đồng bộ bằng NTP", now.format("%d/%m/%Y %H:%M")),
                "keep this machine's clock synchronised (NTP)",
            );
        }
        Err(e) => {
            report.add("clock", Level::Warn, format!("không so được đồng hồ: {e}"), format!("clock not compared: {e}"))
        }
    }
    match db.values_outside_partitions().await {
        Ok(Some(0)) => report.add(
            "partitions",
            Level::Ok,
            "số liệu chia theo năm (2015–2040), mỗi năm một phân vùng",
            "values partitioned by year (2015–2040)",
        ),
        Ok(Some(n)) => report.add(
            "partitions",
            Level::Warn,
            format!(
                "{n} số liệu có kỳ ngoài các năm 2015–2040, nằm ở phân vùng chung data_values_other_years: \
                 vẫn đọc được nhưng chậm hơn; thêm phân vùng cho năm của chúng"
            ),
            format!("{n} values have periods outside 2015–2040 and sit in the default partition: add their years"),
        ),
        Ok(None) => {}
        Err(e) => report.add(
            "partitions",
            Level::Warn,
            format!("không đếm được số liệu ngoài phân vùng: {e}"),
            format!("values outside the partitions not counted: {e}"),
        ),
    }
    if let Ok(runs) = db.job_runs(50).await {
        // Each job named once, however many of its recent runs failed.
        let failed: Vec<&str> = runs
            .iter()
            .filter(|r| r.outcome == "failed")
            .map(|r| r.job.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if failed.is_empty() {
            report.add("jobs", Level::Ok, "việc định kỳ gần đây không lỗi", "recent scheduled jobs did not fail");
        } else {
            report.add(
                "jobs",
                Level::Warn,
                format!("việc định kỳ lỗi gần đây: {} (xem /admin/jobs)", failed.join(", ")),
                format!("scheduled jobs failed recently: {} (see /admin/jobs)", failed.join(", ")),
            );
        }
    }
}

async fn mail(report: &mut Report, serve: &ServeArgs) {
    match &serve.smtp_url {
        None => report.add(
            "mail",
            Level::Warn,
            "chưa cấu hình máy chủ thư (smtp_url): thư kích hoạt, đặt lại mật khẩu và nhắc việc nằm chờ trong hộp thư đi",
            "no mail server (smtp_url): activation, reset and reminder mail waits in the outbox",
        ),
        Some(url) => match crate::serve::check_mail_server(url).await {
            Ok(shown) => {
                report.add("mail", Level::Ok, format!("máy chủ thư {shown} trả lời"), format!("{shown} answers"))
            }
            Err(e) => report.add("mail", Level::Fail, e.clone(), e),
        },
    }
}

fn disk(report: &mut Report, place: &Path) {
    // A directory still to be made (the first backup makes it) has the
    // space of the nearest one that exists.
    let place = if place.as_os_str().is_empty() { Path::new(".") } else { place };
    let shown = place.ancestors().find(|p| p.exists()).filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match fs4::available_space(shown) {
        Ok(free) => {
            let level = if free < DISK_FAIL {
                Level::Fail
            } else if free < DISK_WARN {
                Level::Warn
            } else {
                Level::Ok
            };
            let gib = free as f64 / f64::from(1u32 << 30);
            let vi = baocao_core::text::format_number(gib, 1);
            report.add(
                "disk",
                level,
                format!("còn trống {vi} GiB ở {}", shown.display()),
                format!("{gib:.1} GiB free at {}", shown.display()),
            );
        }
        Err(e) => report.add(
            "disk",
            Level::Warn,
            format!("không đo được dung lượng trống ở {}: {e}", shown.display()),
            format!("free space at {} not measured: {e}", shown.display()),
        ),
    }
}

fn backups(report: &mut Report, dir: Option<&Path>) {
    let Some(dir) = dir else {
        report.add(
            "backup",
            Level::Warn,
            "chưa bật sao lưu hằng đêm (backup_dir)",
            "nightly backups are off (backup_dir is not set)",
        );
        return;
    };
    let newest = std::fs::read_dir(dir).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "sqlite" || x == "pgdump"))
            .filter_map(|e| e.metadata().ok()?.modified().ok())
            .max()
    });
    match newest.map(|t| t.elapsed().unwrap_or_default()) {
        Some(age) if age.as_secs() > 2 * 86_400 => report.add(
            "backup",
            Level::Warn,
            format!("bản sao lưu mới nhất ở {} đã cũ {} ngày", dir.display(), age.as_secs() / 86_400),
            format!("the newest backup in {} is {} days old", dir.display(), age.as_secs() / 86_400),
        ),
        Some(_) => report.add(
            "backup",
            Level::Ok,
            format!("có bản sao lưu mới ở {}", dir.display()),
            format!("a recent backup in {}", dir.display()),
        ),
        None => report.add(
            "backup",
            Level::Warn,
            format!("chưa có bản sao lưu nào ở {}", dir.display()),
            format!("no backup in {} yet", dir.display()),
        ),
    }
}

fn show(report: &Report, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return crate::output::json(&report.0);
    }
    for f in &report.0 {
        let mark = match f.level {
            Level::Ok => "✓",
            Level::Warn => "!",
            Level::Fail => "✗",
        };
        outln!("{mark} {}: {} ({})", f.check, f.vi, f.en);
    }
    Ok(())
}
