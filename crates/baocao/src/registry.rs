//! `baocao registry …`

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use baocao_core::{RegistryError, Reorganization, UnitDetail, parse_date, today_in_vietnam};
use baocao_ingest::vn_admin::{self, Anomalies, Sources};
use baocao_store::Db;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::output::{self, Format};
use crate::progress::Progress;

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Loads the national lists of 2024 and 2025 and the lineage between them.
    #[command(name = "load-2025")]
    Load2025(LoadArgs),
    /// Applies a reorganization plan (TOML or JSON), all or nothing.
    Apply {
        plan: PathBuf,
        /// Validate and tell what would change, without changing anything.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Undoes an applied reorganization, while nothing later builds on it.
    Revert { key: String },
    /// Units in force on a day.
    Units {
        #[command(flatten)]
        at: AtArg,
        /// Only the subtree under this unit.
        #[arg(long)]
        under: Option<String>,
        /// Only this level.
        #[arg(long)]
        level: Option<u8>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// One unit as in force on a day, with every version of its code.
    Show {
        code: String,
        #[command(flatten)]
        at: AtArg,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Direct predecessors and successors of a unit.
    Lineage {
        code: String,
        #[command(flatten)]
        at: AtArg,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Finds units by name, with or without diacritics.
    Search {
        text: String,
        /// Only units in force on this day (YYYY-MM-DD or dd/mm/yyyy); every version when absent.
        #[arg(long, value_parser = parse_date)]
        at: Option<NaiveDate>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Where a unit of one day lies in the structure of another day.
    Map {
        code: String,
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        #[arg(long, value_parser = parse_date)]
        to: NaiveDate,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Args)]
pub struct AtArg {
    /// The day (YYYY-MM-DD or dd/mm/yyyy); today in Vietnam when absent.
    #[arg(long, value_parser = parse_date)]
    at: Option<NaiveDate>,
}

impl AtArg {
    fn day(&self) -> NaiveDate {
        self.at.unwrap_or_else(today_in_vietnam)
    }
}

#[derive(Args)]
pub struct LoadArgs {
    /// Directory with units-2024.csv, units-2025.csv, conversion-2025.csv and province-conversion-2025.csv.
    dir: PathBuf,
    /// Extra lineage the national files lack (old_code,new_code,partly[,weight]).
    #[arg(long)]
    supplement: Option<PathBuf>,
    /// Writes the anomalies found in the files, by code, as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Refuses to load when the files have any anomaly.
    #[arg(long)]
    strict: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs `command` on the database behind `db` (a URL, or the default).
pub async fn run(db: Option<String>, command: RegistryCommand) -> anyhow::Result<()> {
    match command {
        RegistryCommand::Load2025(args) => {
            // The national files are read and checked on another core
            // while the database is opened (and a new one migrated): the
            // two are a load's longest steps before its writes, and neither
            // needs the other.
            let (dir, supplement) = (args.dir.clone(), args.supplement.clone());
            let reading = tokio::task::spawn_blocking(move || {
                Sources::from_dir(&dir, supplement.as_deref()).and_then(|sources| sources.read())
            });
            crate::with_db(db, |db| Box::pin(load_2025(db, args, reading))).await
        }
        command => crate::with_db(db, |db| Box::pin(on(db, command))).await,
    }
}

async fn on(db: &Db, command: RegistryCommand) -> anyhow::Result<()> {
    match command {
        RegistryCommand::Load2025(_) => unreachable!("a load reads its files while the database opens: see `run`"),
        RegistryCommand::Apply { plan, dry_run, format } => apply(db, plan, dry_run, format).await,
        RegistryCommand::Revert { key } => {
            let delta = db.revert_reorganization(&crate::cli_actor(), &key).await?;
            outln!("Đã hoàn tác «{key}»: xóa {} phiên bản, mở lại {}.", delta.begun.len(), delta.ended.len());
            Ok(())
        }
        RegistryCommand::Units { at, under, level, format } => {
            let units = db.units_at(at.day(), under.as_deref(), level).await?;
            if let Some(code) = under.as_deref().filter(|_| units.is_empty())
                && db.unit_history(code).await?.is_empty()
            {
                bail!("Không có đơn vị mã {code}.");
            }
            output::units(&units, format)
        }
        RegistryCommand::Show { code, at, format } => {
            let day = at.day();
            let versions = db.unit_history(&code).await?;
            let spans: Vec<String> = versions.iter().map(|v| format!("«{}» {}", v.name, span(v.validity))).collect();
            let detail = UnitDetail::at(&code, versions, day).map_err(|e| match e {
                // Saying which versions there are spares a second question.
                RegistryError::NotInForce { .. } => anyhow::anyhow!("{e} Các phiên bản: {}.", spans.join("; ")),
                other => other.into(),
            })?;
            match format {
                Format::Json => output::json(&detail),
                _ => output::units(&detail.versions, format),
            }
        }
        RegistryCommand::Lineage { code, at, format } => {
            let registry = db.load_registry().await?;
            output::lineage(&registry.lineage(&code, at.day())?, format)
        }
        RegistryCommand::Search { text, at, limit, format } => {
            output::units(&db.search_units(&text, at, limit).await?, format)
        }
        RegistryCommand::Map { code, from, to, format } => {
            let registry = db.load_registry().await?;
            output::map(&registry.map(&code, from, to)?, format)
        }
    }
}

/// A validity as the pages say it: "từ 01/07/2025 đến hết ngày 30/06/2026".
fn span(v: baocao_core::Validity) -> String {
    let from = v.from.map(|d| format!("từ {}", baocao_core::date::format_vn(d)));
    let to = v.last_day().map(|d| format!("đến hết ngày {}", baocao_core::date::format_vn(d)));
    match (from, to) {
        (None, None) => "luôn có hiệu lực".into(),
        (from, to) => {
            [from, to.or_else(|| Some("đang hiệu lực".into()))].into_iter().flatten().collect::<Vec<_>>().join(" ")
        }
    }
}

#[derive(Serialize)]
struct LoadSummary {
    already_loaded: bool,
    /// Units per level in force on the eve of the reform, and on its first day.
    before: BTreeMap<u8, usize>,
    after: BTreeMap<u8, usize>,
    lineage_edges: usize,
    anomalies: BTreeMap<&'static str, usize>,
}

fn anomaly_counts(a: &Anomalies) -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("old_communes_without_successor", a.old_communes_without_successor.len()),
        ("old_districts_without_successor", a.old_districts_without_successor.len()),
        ("conversion_codes_not_in_lists", a.conversion_codes_not_in_lists.len()),
        ("new_units_without_predecessor", a.new_units_without_predecessor.len()),
        ("splits_without_weights", a.splits_without_weights.len()),
    ])
}

async fn load_2025(
    db: &Db,
    args: LoadArgs,
    reading: tokio::task::JoinHandle<Result<vn_admin::NationalReform, baocao_ingest::Problems>>,
) -> anyhow::Result<()> {
    let progress = Progress::new(args.format == Format::Json);
    progress.stage("đọc danh mục quốc gia");
    let reform = reading.await.context("đọc danh mục quốc gia")??;
    let counts = anomaly_counts(&reform.anomalies);
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&reform.anomalies)?;
        crate::files::write(path, text)?;
    }
    if args.strict && reform.anomalies.total() > 0 {
        let list: Vec<String> = counts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{k}: {n}")).collect();
        bail!("--strict: các tệp có điểm bất thường ({}); chưa nạp gì (xem --report)", list.join(", "));
    }
    let stage = |s: &str| progress.stage(s);
    let outcome =
        db.apply_reorganization(reform.baseline, &reform.reorganization, false, &crate::cli_actor(), &stage).await?;
    progress.stage("tóm tắt kết quả");
    let eff = vn_admin::effective_date();
    // Three reads of what was committed, at once (a pool's connections).
    let (before, after, lineage_edges) = tokio::try_join!(
        db.count_units_by_level(eff.pred_opt().expect("a day before")),
        db.count_units_by_level(eff),
        db.count_lineage(vn_admin::REFORM_KEY),
    )?;
    let summary =
        LoadSummary { already_loaded: outcome.already_applied, before, after, lineage_edges, anomalies: counts };
    progress.finish();
    match args.format {
        Format::Json => output::json(&summary),
        _ => {
            if summary.already_loaded {
                outln!("Đợt sắp xếp năm 2025 đã được nạp; không có gì thay đổi.");
            }
            let line =
                |m: &BTreeMap<u8, usize>| m.iter().map(|(l, n)| format!("cấp {l}: {n}")).collect::<Vec<_>>().join(", ");
            outln!("Đơn vị có hiệu lực ngày 30/06/2025: {}", line(&summary.before));
            outln!("Đơn vị có hiệu lực ngày 01/07/2025: {}", line(&summary.after));
            outln!("Quan hệ kế thừa: {}", summary.lineage_edges);
            outln!("Điểm bất thường trong các tệp:");
            for (k, n) in &summary.anomalies {
                outln!("  {k}: {n}");
            }
            Ok(())
        }
    }
}

async fn apply(db: &Db, path: PathBuf, dry_run: bool, format: Format) -> anyhow::Result<()> {
    let text = crate::files::read_text(&path)?;
    let plan: Reorganization = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)
            .with_context(|| format!("{}: không phải phương án sắp xếp hợp lệ", path.display()))?
    } else {
        toml::from_str(&text).with_context(|| format!("{}: không phải phương án sắp xếp hợp lệ", path.display()))?
    };
    let outcome = db.apply_reorganization(Vec::new(), &plan, dry_run, &crate::cli_actor(), &|_| {}).await?;
    match format {
        Format::Json => output::json(&outcome),
        _ => {
            let (end, begin) =
                if dry_run { ("sẽ kết thúc", "sẽ bắt đầu") } else { ("kết thúc", "bắt đầu") };
            outln!(
                "«{}»: {end} {} phiên bản, {begin} {}, {} quan hệ kế thừa{}.",
                plan.info.key,
                outcome.units_ended,
                outcome.units_begun,
                outcome.lineage_edges,
                if outcome.already_applied {
                    " (đã thực hiện từ trước, không có gì thay đổi)"
                } else {
                    ""
                }
            );
            Ok(())
        }
    }
}
