//! `baocao cutover` and `baocao archive`: a reorganization taken into the
//! reporting system at 00:00 of its effective day (check, dry run, apply,
//! verify, rollback), the backup made before, and the BagIt packages and
//! handover records of the dissolved units made after.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use baocao_archive::verify_bag;
use baocao_core::cutover::{AccountPlan, Cutover, ReorgSource, Summary};
use baocao_core::date::format_vn;
use baocao_core::form::Form;
use baocao_core::regime::Regime;
use baocao_core::reorg::Reorganization;
use baocao_documents::package;
use baocao_ingest::definitions::read_toml;
use baocao_store::Db;
use baocao_store::cutover::{CutoverRecord, CutoverUnit};
use chrono::NaiveDate;
use clap::Subcommand;
use serde::Deserialize;

use crate::files;
use crate::output::{self, Format};
use crate::progress::Progress;

#[derive(Subcommand)]
pub enum CutoverCommand {
    /// Checks a cutover plan against the database: every problem at once.
    Check {
        plan: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// What the plan would change (units, open reports of dissolved units,
    /// accounts, agencies, forms, regimes), without changing anything.
    DryRun {
        plan: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Backs the database up, applies the plan in one transaction, then
    /// packages every dissolved unit's data with its handover record.
    /// Running it again completes an interrupted run and changes nothing
    /// once done.
    Apply {
        plan: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also print each handover record to PDF with headless chromium
        /// (`BAOCAO_CHROMIUM` names another browser); about a second each.
        #[arg(long)]
        pdf: bool,
    },
    /// Checks what should hold after a cutover, its packages included.
    Verify {
        key: String,
        /// Where its packages are (the plan's `archive_dir`).
        #[arg(long)]
        archive_dir: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Restores the state before a cutover, while no new data depends on it.
    Rollback { key: String },
    /// Schedules the plan for 00:00 of its effective day (Vietnam time):
    /// `baocao serve` rehearses it the day before and applies it on the
    /// day, mailing system administrators each outcome. The plan is
    /// checked now and read again when it runs (mend it until then).
    Schedule { plan: PathBuf },
    /// Takes a scheduled cutover off the schedule.
    Unschedule { key: String },
}

#[derive(Subcommand)]
pub enum ArchiveCommand {
    /// Validates a bag (or every bag in a directory): checksums, completeness, Payload-Oxum.
    Verify { dir: PathBuf },
    /// Loads bags (or every bag in a directory), verified first, for
    /// read-only consultation in the web application (`/archive`), in this
    /// instance or a fresh one.
    Load { dir: PathBuf },
}

/// The plan as written: paths are relative to the plan file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    key: String,
    name: String,
    /// YYYY-MM-DD or dd/mm/yyyy, quoted: the cutover is at 00:00 of it.
    effective_date: String,
    #[serde(default)]
    scope: Option<String>,
    source_organization: String,
    /// The key of a reorganization already in the registry …
    #[serde(default)]
    reorganization: Option<String>,
    /// … or a reorganization plan (TOML or JSON) applied with the cutover.
    #[serde(default)]
    reorganization_file: Option<PathBuf>,
    #[serde(default)]
    forms: Vec<PathBuf>,
    #[serde(default)]
    regimes: Vec<PathBuf>,
    #[serde(default)]
    accounts: Option<AccountPlan>,
    /// Where packages go (default `luu-tru` next to the plan).
    #[serde(default)]
    archive_dir: Option<PathBuf>,
    /// Where the backup goes (default `sao-luu` next to the plan).
    #[serde(default)]
    backup_dir: Option<PathBuf>,
}

pub(crate) struct Plan {
    pub(crate) cutover: Cutover,
    pub(crate) archive_dir: PathBuf,
    pub(crate) backup_dir: PathBuf,
    pub(crate) legal_basis: Option<String>,
    /// The demo's own cutover: its documents are marked as the demo's.
    pub(crate) demo: bool,
}

/// Reads a plan and the files it names; every unreadable file is named.
fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let base = path.parent().unwrap_or(Path::new("."));
    let text = files::read_text(path)?;
    let file: PlanFile = read_toml(&path.display().to_string(), &text).map_err(|p| anyhow::anyhow!("{p}"))?;
    let mut problems = Vec::new();
    let effective_date = baocao_core::parse_date(&file.effective_date).unwrap_or_else(|e| {
        problems.push(format!("effective_date: {e}"));
        NaiveDate::MIN
    });
    let reorganization = match (&file.reorganization, &file.reorganization_file) {
        (Some(key), None) => Some(ReorgSource::Applied { key: key.clone() }),
        (None, Some(f)) => {
            let p = base.join(f);
            let parsed = files::read_text(&p).and_then(|t| {
                if p.extension().is_some_and(|e| e == "json") {
                    serde_json::from_str::<Reorganization>(&t).map_err(anyhow::Error::from)
                } else {
                    read_toml::<Reorganization>(&p.display().to_string(), &t).map_err(|e| anyhow::anyhow!("{e}"))
                }
            });
            match parsed {
                Ok(reorganization) => Some(ReorgSource::Plan { reorganization }),
                Err(e) => {
                    problems.push(format!("reorganization_file: {e:#}"));
                    None
                }
            }
        }
        _ => {
            problems.push("give either `reorganization` (a key in the registry) or `reorganization_file`".into());
            None
        }
    };
    let mut forms = Vec::new();
    for f in &file.forms {
        let p = base.join(f);
        match files::read_text(&p)
            .and_then(|t| read_toml::<Form>(&p.display().to_string(), &t).map_err(|e| anyhow::anyhow!("{e}")))
        {
            Ok(form) => forms.push(form),
            Err(e) => problems.push(format!("forms: {e:#}")),
        }
    }
    let mut regimes = Vec::new();
    for f in &file.regimes {
        let p = base.join(f);
        match files::read_text(&p)
            .and_then(|t| read_toml::<Regime>(&p.display().to_string(), &t).map_err(|e| anyhow::anyhow!("{e}")))
        {
            Ok(regime) => regimes.push(regime),
            Err(e) => problems.push(format!("regimes: {e:#}")),
        }
    }
    let Some(reorganization) = reorganization.filter(|_| problems.is_empty()) else {
        bail!(
            "{}: không đọc được phương án chuyển đổi; {} lỗi:\n  {}",
            path.display(),
            problems.len(),
            problems.join("\n  ")
        );
    };
    let legal_basis = match &reorganization {
        ReorgSource::Plan { reorganization } => reorganization.info.legal_basis.clone(),
        ReorgSource::Applied { .. } => None,
    };
    Ok(Plan {
        archive_dir: base.join(file.archive_dir.unwrap_or_else(|| "luu-tru".into())),
        backup_dir: base.join(file.backup_dir.unwrap_or_else(|| "sao-luu".into())),
        legal_basis,
        demo: false,
        cutover: Cutover {
            key: file.key,
            name: file.name,
            effective_date,
            scope: file.scope,
            source_organization: file.source_organization,
            reorganization,
            forms,
            regimes,
            accounts: file.accounts,
        },
    })
}

fn print_summary(summary: &Summary, cutover: &Cutover, verb: &str) -> anyhow::Result<()> {
    outln!("Đợt chuyển đổi «{}» lúc 00:00 ngày {}: {verb}", cutover.key, format_vn(cutover.effective_date));
    outln!("  phiên bản đơn vị kết thúc: {}, bắt đầu: {}", summary.units_closed, summary.units_opened);
    outln!("  đơn vị giải thể đã đóng gói: {}", summary.dissolved.len());
    outln!("  báo cáo chưa xong của đơn vị giải thể: {}", summary.open_reports.len());
    for r in &summary.open_reports {
        outln!("    {} {} {} ({}): {}", r.unit, r.regime, r.period, r.status, r.fate);
    }
    outln!("  cơ quan kết thúc: {}", summary.agencies_ending.len());
    for a in &summary.agencies_ending {
        let fate = if a.successors.is_empty() {
            format!("lưu trữ: {}", a.archive.as_deref().unwrap_or("-"))
        } else {
            format!("→ {}", a.successors.join(", "))
        };
        outln!("    {} {} {fate}", a.code, a.name);
    }
    outln!("  biểu mẫu bắt đầu: {}; kết thúc: {}", summary.forms_started.join(", "), summary.forms_ended.join(", "));
    outln!("  chế độ báo cáo đã lưu: {}", summary.regimes.join(", "));
    let steps: Vec<String> = summary.account_steps.iter().map(|(k, n)| format!("{k} {n}")).collect();
    outln!("  bước về tài khoản: {}", if steps.is_empty() { "không có".to_string() } else { steps.join(", ") });
    Ok(())
}

fn refuse(problems: &[String]) -> anyhow::Result<()> {
    bail!("không thực hiện được đợt chuyển đổi; {} lỗi:\n  {}", problems.len(), problems.join("\n  "))
}

pub async fn run(db: &Db, url: String, command: CutoverCommand) -> anyhow::Result<()> {
    match command {
        CutoverCommand::Check { plan, format } => {
            let plan = read_plan(&plan)?;
            let prepared = db.prepare_cutover(&plan.cutover).await?;
            if format == Format::Json {
                output::json(
                    &serde_json::json!({ "key": plan.cutover.key, "problems": prepared.problems, "applied": prepared.applied }),
                )?;
            } else if prepared.problems.is_empty() {
                outln!(
                    "«{}»: không thấy vấn đề nào{}.",
                    plan.cutover.key,
                    if prepared.applied { " (đã thực hiện)" } else { "" }
                );
            }
            if !prepared.problems.is_empty() {
                return refuse(&prepared.problems);
            }
            Ok(())
        }
        CutoverCommand::DryRun { plan, format } => {
            let plan = read_plan(&plan)?;
            let prepared = db.prepare_cutover(&plan.cutover).await?;
            if format == Format::Json {
                output::json(&serde_json::json!({ "key": plan.cutover.key, "problems": prepared.problems,
                    "applied": prepared.applied, "summary": prepared.summary }))?;
            } else {
                print_summary(&prepared.summary, &plan.cutover, "would change (nothing changed)")?;
            }
            if !prepared.problems.is_empty() {
                return refuse(&prepared.problems);
            }
            Ok(())
        }
        CutoverCommand::Apply { plan, format, pdf } => apply(db, &url, &read_plan(&plan)?, format, pdf).await,
        CutoverCommand::Verify { key, archive_dir, format } => {
            let mut problems = db.verify_cutover(&key).await?;
            let record = db.cutover(&key).await?.with_context(|| format!("không có đợt chuyển đổi «{key}»"))?;
            for unit in &record.units {
                match package_dir(&record, unit, archive_dir.as_deref()) {
                    Some(dir) => match verify_bag(&dir) {
                        Ok(_) => {
                            if let Err(e) = package::check_record_beside(&dir, &unit.code) {
                                problems.push(format!("biên bản bàn giao của {}: {e}", unit.code));
                            }
                        }
                        Err(e) => problems.push(format!("gói lưu trữ của {}: {e}", unit.code)),
                    },
                    None => {
                        problems.push(format!("đơn vị {} chưa có gói lưu trữ: chạy lại `cutover apply`", unit.code))
                    }
                }
            }
            if format == Format::Json {
                output::json(&serde_json::json!({ "key": key, "problems": problems }))?;
            } else if problems.is_empty() {
                outln!("«{key}»: mọi kiểm tra đều đạt; {} gói lưu trữ hợp lệ.", record.units.len());
            }
            if !problems.is_empty() {
                bail!("{} lỗi sau đợt chuyển đổi «{key}»:\n  {}", problems.len(), problems.join("\n  "));
            }
            Ok(())
        }
        CutoverCommand::Schedule { plan: path } => {
            let plan = read_plan(&path)?;
            let prepared = db.prepare_cutover(&plan.cutover).await?;
            if !prepared.problems.is_empty() {
                return refuse(&prepared.problems);
            }
            if prepared.applied {
                bail!("«{}» đã được thực hiện rồi", plan.cutover.key);
            }
            // Read again by the server when it runs: where it is, wherever
            // the server was started from.
            let absolute = std::path::absolute(&path)
                .with_context(|| format!("không xác định được đường dẫn {}", path.display()))?;
            let c = &plan.cutover;
            db.schedule_cutover(&crate::cli_actor(), &c.key, &c.name, &absolute.to_string_lossy(), c.effective_date)
                .await?;
            outln!(
                "«{}» đã lên lịch lúc 00:00 ngày {}: `baocao serve` chạy thử lúc 00:00 ngày hôm trước và thực hiện đúng giờ (xem /admin/jobs).",
                c.key,
                format_vn(c.effective_date)
            );
            Ok(())
        }
        CutoverCommand::Unschedule { key } => {
            db.cancel_scheduled_cutover(&crate::cli_actor(), &key).await?;
            outln!("«{key}» đã rút khỏi lịch.");
            Ok(())
        }
        CutoverCommand::Rollback { key } => {
            let _one_at_a_time = db.exclusive("cutover").await?;
            db.rollback_cutover(&crate::cli_actor(), &key).await?;
            outln!(
                "«{key}» đã hoàn tác: trạng thái trước đợt chuyển đổi được khôi phục (vẫn giữ các gói lưu trữ và bản sao lưu)."
            );
            Ok(())
        }
    }
}

fn package_dir(record: &CutoverRecord, unit: &CutoverUnit, archive_dir: Option<&Path>) -> Option<PathBuf> {
    match archive_dir {
        Some(dir) => Some(dir.join(&record.key).join(&unit.code)),
        None => unit.package.as_ref().map(PathBuf::from),
    }
}

async fn apply(db: &Db, url: &str, plan: &Plan, format: Format, pdf: bool) -> anyhow::Result<()> {
    let progress = Progress::new(format == Format::Json);
    let applied = carry_out(db, url, plan, pdf, &progress, &crate::cli_actor()).await;
    progress.finish();
    let Applied { changed, backup, made, packages, summary } = applied?;
    let cutover = &plan.cutover;
    if format == Format::Json {
        return output::json(&serde_json::json!({ "key": cutover.key, "changed": changed, "backup": backup,
            "packages_made": made, "packages": packages, "summary": summary }));
    }
    if let Some(b) = &backup {
        outln!("bản sao lưu: {}", b.display());
    }
    print_summary(
        &summary,
        cutover,
        if changed { "đã thực hiện" } else { "đã thực hiện từ trước, không có gì thay đổi" },
    )?;
    outln!("gói lưu trữ: {made} gói mới, {packages} gói trong {}", plan.archive_dir.join(&cutover.key).display());
    Ok(())
}

/// What applying a cutover did.
pub(crate) struct Applied {
    changed: bool,
    backup: Option<PathBuf>,
    /// Packages written by this run, of `packages`.
    made: usize,
    packages: usize,
    summary: Summary,
}

/// Backs up, applies the plan in one transaction and packages every
/// dissolved unit; what `cutover apply` and the demo do.
pub(crate) async fn carry_out(
    db: &Db,
    url: &str,
    plan: &Plan,
    pdf: bool,
    progress: &Progress,
    actor: &str,
) -> anyhow::Result<Applied> {
    let cutover = &plan.cutover;
    // A second apply of the same (or another) cutover waits for none: it
    // is refused, saying why, while this one runs.
    let _one_at_a_time = db.exclusive("cutover").await?;
    progress.stage("kiểm tra kế hoạch chuyển đổi");
    let prepared = db.prepare_cutover(cutover).await?;
    if !prepared.problems.is_empty() {
        refuse(&prepared.problems)?;
    }
    let backup = if prepared.applied {
        None
    } else {
        progress.stage("sao lưu cơ sở dữ liệu");
        Some(crate::backup::write(db, url, &plan.backup_dir, &cutover.key).await?)
    };
    progress.stage("áp dụng chuyển đổi trong một giao dịch");
    let (prepared, changed) = db.apply_cutover(actor, cutover).await?;
    let record = db.cutover(&cutover.key).await?.context("đợt chuyển đổi không có trong cơ sở dữ liệu")?;
    let registry = db.load_registry().await?;
    let dir = plan.archive_dir.join(&cutover.key);
    let mut made = 0;
    for unit in &record.units {
        progress.stage(&format!("đóng gói {} {}", unit.code, unit.name));
        let target = dir.join(&unit.code);
        let path = target.to_string_lossy();
        if target.exists() && verify_bag(&target).is_ok() {
            // A run stopped between writing a package and its record, or a
            // record damaged since: written again from the bag's own copy.
            if let Some(beside) = package::restore_record_beside(&target, &unit.code)?
                && pdf
            {
                print_pdf(&beside);
            }
            // A run stopped between writing a package and recording it
            // left a valid package that the record does not name yet.
            if unit.package.as_deref() != Some(&*path) {
                db.set_package(&cutover.key, &unit.code, &path).await?;
            }
            continue;
        }
        if target.exists() {
            std::fs::remove_dir_all(&target).with_context(|| format!("không thay được {}", target.display()))?;
        }
        let issuer = package::Issuer {
            source_organization: &cutover.source_organization,
            scope: cutover.scope.as_deref(),
            legal_basis: plan.legal_basis.as_deref(),
            demo: plan.demo,
        };
        let beside = package::package(db, &registry, &record, unit, &target, &issuer).await?;
        if pdf {
            print_pdf(&beside);
        }
        db.set_package(&cutover.key, &unit.code, &path).await?;
        made += 1;
    }
    Ok(Applied { changed, backup, made, packages: record.units.len(), summary: prepared.summary })
}

/// The scheduler's work for scheduled cutovers on `today`: each one due is
/// rehearsed (the day before) or applied (from its day on), its outcome
/// recorded and told to the system administrators. What it did, in a line
/// per cutover; an error when one could not be applied.
pub(crate) async fn run_scheduled(db: &Db, url: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String, String> {
    let today = baocao_core::date::day_in_vietnam(now);
    let scheduled = db.scheduled_cutovers().await.map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    let mut failed = false;
    for sc in scheduled.iter().filter(|s| matches!(s.state.as_str(), "scheduled" | "failed")) {
        let Some(step) = baocao_core::cutover::scheduled_step(sc.effective_date, today) else { continue };
        let apply = step == baocao_core::cutover::ScheduledStep::Apply;
        let outcome = scheduled_step(db, url, &sc.plan_path, apply).await;
        let recorded = if apply {
            db.record_application(&sc.key, outcome.is_ok(), outcome.as_ref().unwrap_or_else(|e| e)).await
        } else {
            db.record_rehearsal(&sc.key, outcome.as_ref().unwrap_or_else(|e| e)).await
        };
        recorded.map_err(|e| e.to_string())?;
        let notice = baocao_core::notify::cutover_notice(&sc.key, &sc.name, sc.effective_date, apply, &outcome);
        db.notify_administrators(notice, now).await.map_err(|e| e.to_string())?;
        failed |= apply && outcome.is_err();
        let verb = if apply { "thực hiện" } else { "diễn tập" };
        lines.push(match outcome {
            Ok(text) => format!("«{}»: {verb} xong. {text}", sc.key),
            Err(text) => format!("«{}»: {verb} không được. {text}", sc.key),
        });
    }
    if lines.is_empty() {
        lines.push("Không có đợt chuyển đổi nào đến lịch.".into());
    }
    let text = lines.join("\n");
    if failed { Err(text) } else { Ok(text) }
}

/// One scheduled cutover rehearsed (a dry run) or applied, as a sentence.
async fn scheduled_step(db: &Db, url: &str, plan_path: &str, apply: bool) -> Result<String, String> {
    let plan = read_plan(Path::new(plan_path)).map_err(|e| format!("{e:#}"))?;
    if !apply {
        let prepared = db.prepare_cutover(&plan.cutover).await.map_err(|e| e.to_string())?;
        if !prepared.problems.is_empty() {
            return Err(format!("{} lỗi: {}", prepared.problems.len(), prepared.problems.join("; ")));
        }
        let s = &prepared.summary;
        return Ok(format!(
            "Sẽ đóng {} và mở {} phiên bản đơn vị, đóng gói {} đơn vị giải thể; {} báo cáo còn mở của đơn vị giải thể.",
            s.units_closed,
            s.units_opened,
            s.dissolved.len(),
            s.open_reports.len()
        ));
    }
    let applied =
        carry_out(db, url, &plan, false, &Progress::new(true), "scheduler").await.map_err(|e| format!("{e:#}"))?;
    let s = &applied.summary;
    Ok(format!(
        "Đã đóng {} và mở {} phiên bản đơn vị; {} gói lưu trữ ({} gói mới); sao lưu trước khi thực hiện: {}.",
        s.units_closed,
        s.units_opened,
        applied.packages,
        applied.made,
        applied.backup.as_ref().map_or_else(|| "không cần (đã thực hiện trước đó)".into(), |b| b.display().to_string())
    ))
}

/// Prints the handover record to PDF with a headless chromium
/// (`BAOCAO_CHROMIUM` names another browser); without one, the HTML is
/// there to print from any browser.
fn print_pdf(html: &Path) {
    let browser = std::env::var("BAOCAO_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let pdf = html.with_extension("pdf");
    let result = std::process::Command::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(html)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !matches!(result, Ok(s) if s.success()) {
        tracing::info!(browser, "no PDF of the handover record: the browser is not available");
    }
}

/// The bag at `dir`, or the bags in it.
fn bags_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let bags: Vec<PathBuf> = if dir.join("bagit.txt").exists() {
        vec![dir.to_path_buf()]
    } else {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("không đọc được thư mục {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("bagit.txt").exists())
            .collect();
        found.sort();
        found
    };
    if bags.is_empty() {
        bail!("{}: không có gói lưu trữ (không có bagit.txt)", dir.display());
    }
    Ok(bags)
}

/// Loads verified bags into the database for consultation.
pub async fn load(db: &Db, dir: &Path) -> anyhow::Result<()> {
    let progress = Progress::new(false);
    let loaded = load_bags(db, &crate::cli_actor(), dir, &progress).await;
    progress.finish();
    let (loaded, known) = loaded?;
    outln!("Đã nạp {loaded} gói lưu trữ, {known} gói có sẵn; xem mục «Lưu trữ» (/archive) của ứng dụng web.");
    Ok(())
}

/// Loads the bags at `dir` (each verified first) for consultation: how many
/// were new, how many already there.
pub(crate) async fn load_bags(db: &Db, actor: &str, dir: &Path, progress: &Progress) -> anyhow::Result<(usize, usize)> {
    let bags = bags_in(dir)?;
    let (mut loaded, mut known) = (0, 0);
    for bag in &bags {
        progress.stage(&format!("nạp {}", bag.display()));
        let summary = verify_bag(bag)?;
        let manifest = files::read_text(bag.join("manifest-sha256.txt"))?;
        let mut files = Vec::new();
        for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
            let (sha256, path) = line
                .split_once(char::is_whitespace)
                .with_context(|| format!("{}: dòng danh mục không đọc được: {line}", bag.display()))?;
            let path = path.trim_start().to_string();
            let content = files::read(bag.join(&path))?;
            files.push(baocao_store::archive::PackageFile { path, content, sha256: sha256.to_string() });
        }
        let (_, new) = db.load_package(actor, &summary.info, &files).await?;
        if new { loaded += 1 } else { known += 1 }
    }
    Ok((loaded, known))
}

/// Validates the bag at `dir`, or every bag in it.
pub fn verify(dir: &Path) -> anyhow::Result<()> {
    let bags = bags_in(dir)?;
    let mut failed = Vec::new();
    for bag in &bags {
        match verify_bag(bag) {
            Ok(s) => outln!("{}: hợp lệ, {} tệp, Payload-Oxum {}", bag.display(), s.files, s.oxum),
            Err(e) => failed.push(e.to_string()),
        }
    }
    if !failed.is_empty() {
        bail!("{}/{} gói lưu trữ không hợp lệ:\n{}", failed.len(), bags.len(), failed.join("\n"));
    }
    Ok(())
}
