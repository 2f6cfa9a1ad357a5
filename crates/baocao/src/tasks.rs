//! `baocao tasks` and `baocao targets`: the plans' task tables followed up,
//! and their targets measured from the reports.

use std::path::PathBuf;

use baocao_core::date::format_vn;
use baocao_core::tasks::{Target, TaskStatus, Timeliness};
use baocao_core::{Period, parse_date, today_in_vietnam};
use baocao_store::Db;
use chrono::NaiveDate;
use clap::Subcommand;
use serde::Deserialize;

use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum TaskCommand {
    /// Imports a plan's task table (CSV or XLSX: TT, tên nhiệm vụ, đơn vị
    /// chủ trì, đơn vị phối hợp, thời hạn hoàn thành, sản phẩm chính, and
    /// optionally tình trạng, ngày hoàn thành, minh chứng); all or nothing.
    Import {
        file: PathBuf,
        /// The plan the table belongs to (e.g. "Kế hoạch 123/KH-VP"), unless a column says.
        #[arg(long)]
        plan: String,
    },
    /// Tasks with where they stand against their deadlines on a day.
    List {
        #[arg(long, value_parser = parse_date)]
        at: Option<NaiveDate>,
        /// Only tasks past their deadline and not done.
        #[arg(long)]
        late: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Records where a task stands.
    Update {
        #[arg(long)]
        plan: String,
        number: String,
        /// not_started, in_progress or done (Vietnamese accepted).
        #[arg(long)]
        status: TaskStatus,
        #[arg(long, value_parser = parse_date)]
        done_on: Option<NaiveDate>,
        #[arg(long)]
        evidence: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TargetCommand {
    /// Imports targets from a TOML file of `[[targets]]` (code, plan, name,
    /// indicator, optional `of` for a percentage, unit, goal, deadline).
    Import { file: PathBuf },
    /// Every target measured in a period.
    Progress {
        #[arg(long)]
        period: Period,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn tasks(db: &Db, command: TaskCommand) -> anyhow::Result<()> {
    use baocao_ingest::tasks::{read_tasks_csv, read_tasks_xlsx};
    match command {
        TaskCommand::Import { file, plan } => {
            let name = file.display().to_string();
            let tasks = if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
                read_tasks_xlsx(&name, &crate::files::read(&file)?, &plan)?
            } else {
                read_tasks_csv(&name, &crate::files::read_text(&file)?, &plan)?
            };
            let n = db.import_tasks(&crate::cli_actor(), &tasks).await?;
            outln!("Đã nhập {n} nhiệm vụ.");
        }
        TaskCommand::List { at, late, format } => {
            let day = at.unwrap_or_else(today_in_vietnam);
            let tasks: Vec<_> = db
                .tasks()
                .await?
                .into_iter()
                .map(|t| (t.timeliness(day), t))
                .filter(|(w, _)| !late || *w == Timeliness::Late)
                .collect();
            if format == Format::Json {
                let list: Vec<_> =
                    tasks.iter().map(|(w, t)| serde_json::json!({ "task": t, "timeliness": w })).collect();
                return output::json(&list);
            }
            output::rows(
                format,
                &["plan", "number", "title", "lead", "deadline", "status", "timeliness", "evidence"],
                &["Kế hoạch", "TT", "Nhiệm vụ", "Chủ trì", "Thời hạn", "Tình trạng", "Tiến độ", "Minh chứng"],
                tasks.iter().map(|(w, t)| {
                    vec![
                        t.plan.clone(),
                        t.number.clone(),
                        t.title.clone(),
                        t.lead.clone(),
                        format_vn(t.deadline),
                        t.status.vietnamese().into(),
                        w.vietnamese().into(),
                        t.evidence.clone().unwrap_or_default(),
                    ]
                }),
            )?;
        }
        TaskCommand::Update { plan, number, status, done_on, evidence } => {
            let done_on = done_on.or((status == TaskStatus::Done).then(today_in_vietnam));
            db.update_task(&crate::cli_actor(), &plan, &number, status, done_on, evidence.as_deref()).await?;
            outln!("nhiệm vụ {number} của «{plan}»: {}", status.vietnamese());
        }
    }
    Ok(())
}

/// A file of targets: `[[targets]]` tables.
#[derive(Deserialize)]
pub(crate) struct TargetFile {
    pub targets: Vec<Target>,
}

pub async fn targets(db: &Db, command: TargetCommand) -> anyhow::Result<()> {
    match command {
        TargetCommand::Import { file } => {
            let name = file.display().to_string();
            let text = crate::files::read_text(&file)?;
            let parsed: TargetFile = baocao_ingest::definitions::read_toml(&name, &text)?;
            let n = db.import_targets(&crate::cli_actor(), &parsed.targets).await?;
            outln!("Đã nhập {n} chỉ tiêu kế hoạch.");
        }
        TargetCommand::Progress { period, format } => {
            let registry = db.load_registry().await?;
            let progress = db.target_progress(&registry, &period).await?;
            if format == Format::Json {
                return output::json(&progress);
            }
            output::rows(
                format,
                &["code", "name", "unit", "goal", "value", "reached", "deadline"],
                &["Mã", "Chỉ tiêu", "Đơn vị", "Mục tiêu", &format!("Kỳ {period}"), "Đạt", "Thời hạn"],
                progress.iter().map(|p| {
                    let pct = if p.target.of.is_some() { " %" } else { "" };
                    vec![
                        p.target.code.clone(),
                        p.target.name.clone(),
                        p.target.unit.clone(),
                        format!("{}{pct}", output::number(p.target.goal, format)),
                        p.value
                            .map(|v| format!("{}{pct}", output::number((v * 10.0).round() / 10.0, format)))
                            .unwrap_or_else(|| "chưa có số liệu".into()),
                        if p.reached { "đạt".into() } else { "chưa đạt".into() },
                        format_vn(p.target.deadline),
                    ]
                }),
            )?;
        }
    }
    Ok(())
}
