//! `baocao forms …`, `baocao regimes …`, `baocao report …`, `baocao completeness`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use baocao_core::Period;
use baocao_core::date::format_vn;
use baocao_core::form::Form;
use baocao_core::regime::Regime;
use baocao_core::report::{ReportView, column_key};
use baocao_core::workflow::Action;
use baocao_ingest::definitions::read_toml;
use baocao_store::Db;
use baocao_store::reports::ReportRequest;
use clap::{Args, Subcommand};

use crate::files;
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum FormCommand {
    /// Stores a form version from its definition: TOML, or a workbook (.xlsx).
    Import { file: PathBuf },
    /// Writes the version of a form in force on a day as TOML or a workbook (.xlsx).
    Export {
        code: String,
        /// The day (YYYY-MM-DD or dd/mm/yyyy); today in Vietnam when absent.
        #[arg(long, value_parser = baocao_core::parse_date)]
        at: Option<chrono::NaiveDate>,
        /// Where to write; `.xlsx` writes a workbook, anything else TOML.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Every version of a form, as JSON.
    Show { code: String },
}

#[derive(Subcommand)]
pub enum RegimeCommand {
    /// Stores a regime from its TOML definition.
    Import { file: PathBuf },
    /// Lists the regimes.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Args)]
pub struct Which {
    /// The regime (chế độ báo cáo) code.
    #[arg(long)]
    regime: String,
    /// The reporting unit's code.
    #[arg(long)]
    unit: String,
    #[arg(long)]
    period: Period,
    /// Who acts (recorded in the report's history).
    #[arg(long, default_value = "cli")]
    by: String,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Args)]
pub struct Entry {
    /// This period's value: CODE=VALUE (repeat); 1.234,5 and 1234.5 both read.
    #[arg(long = "set", value_parser = key_value)]
    values: Vec<(String, String)>,
    /// Year plan value: CODE=VALUE (repeat).
    #[arg(long = "plan", value_parser = key_value)]
    plan: Vec<(String, String)>,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("«{s}»: expected CODE=VALUE"))
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Shows a report with its computed columns and history.
    Show(Which),
    /// Saves values as a draft (and who will sign, when given).
    Save {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        entry: Entry,
        /// Signer's name, kept for the submission.
        #[arg(long, requires = "position")]
        signer: Option<String>,
        /// Signer's position (Chủ tịch, Phó Chủ tịch …).
        #[arg(long, requires = "signer")]
        position: Option<String>,
    },
    /// Sends the report: its rules must pass, and someone must sign it (here
    /// or kept from a save).
    Submit {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        entry: Entry,
        /// Signer's name, recorded with the position and time (ký số).
        #[arg(long, requires = "position")]
        signer: Option<String>,
        /// Signer's position (Chủ tịch, Phó Chủ tịch …).
        #[arg(long, requires = "signer")]
        position: Option<String>,
    },
    /// Writes the report as a workbook laid out like the printed form; as a
    /// template, its entered cells are open while the report can be edited.
    Xlsx {
        #[command(flatten)]
        which: Which,
        /// Where to write the workbook.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Reads a filled template and saves its values (or submits them).
    Upload {
        file: PathBuf,
        #[arg(long)]
        submit: bool,
        #[arg(long, default_value = "cli")]
        by: String,
        /// Signer's name (a submission is signed, here or by an earlier save).
        #[arg(long, requires = "position")]
        signer: Option<String>,
        /// Signer's position (Chủ tịch, Phó Chủ tịch …).
        #[arg(long, requires = "signer")]
        position: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Approves a submitted report; it is then locked.
    Approve(Which),
    /// Returns a submitted report for correction.
    Return {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        reason: String,
    },
    /// Reopens an approved report for correction: it becomes a draft again,
    /// its figures no longer fixed (needs the right to approve it).
    Reopen {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        reason: String,
    },
}

pub async fn forms(db: &Db, command: FormCommand) -> anyhow::Result<()> {
    match command {
        FormCommand::Import { file } => {
            let name = file.display().to_string();
            let form: Form = if is_xlsx(&file) {
                let bytes = files::read(&file)?;
                baocao_ingest::form_xlsx::read_form(&name, &bytes)?
            } else {
                read_toml(&name, &files::read_text(&file)?)?
            };
            db.save_form(&crate::cli_actor(), &form).await?;
            outln!("Đã lưu biểu mẫu {} (hiệu lực từ {}).", form.code, form.valid_from.map_or("—".into(), format_vn));
            Ok(())
        }
        FormCommand::Show { code } => output::json(&db.form_versions(&code).await?),
        FormCommand::Export { code, at, output } => {
            let day = at.unwrap_or_else(baocao_core::today_in_vietnam);
            let versions = db.form_versions(&code).await?;
            let form = versions
                .into_iter()
                .find(|f| f.validity().contains(day))
                .with_context(|| format!("biểu mẫu {code} không có phiên bản hiệu lực ngày {}", format_vn(day)))?;
            let bytes = if is_xlsx(&output) {
                baocao_ingest::form_xlsx::write_form(&form)?
            } else {
                toml::to_string_pretty(&form)?.into_bytes()
            };
            files::write(&output, bytes)?;
            outln!(
                "Đã ghi biểu mẫu {code} (hiệu lực từ {}) vào {}.",
                form.valid_from.map_or("—".into(), format_vn),
                output.display()
            );
            Ok(())
        }
    }
}

pub async fn regimes(db: &Db, command: RegimeCommand) -> anyhow::Result<()> {
    match command {
        RegimeCommand::Import { file } => {
            let regime: Regime = read_toml(&file.display().to_string(), &files::read_text(&file)?)?;
            db.save_regime(&crate::cli_actor(), &regime).await?;
            outln!("Đã lưu chế độ báo cáo {}.", regime.code);
            Ok(())
        }
        RegimeCommand::List { format } => match format {
            Format::Json => output::json(&db.regimes().await?),
            _ => output::rows(
                format,
                &["code", "name", "form", "periodicity"],
                &["Mã", "Tên chế độ báo cáo", "Biểu", "Kỳ"],
                db.regimes()
                    .await?
                    .into_iter()
                    .map(|r| vec![r.code, r.name, r.form, r.periodicity.vietnamese().into()]),
            ),
        },
    }
}

fn is_xlsx(file: &std::path::Path) -> bool {
    file.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

pub async fn report(db: &Db, command: ReportCommand) -> anyhow::Result<()> {
    let registry = db.load_registry().await?;
    let (which, action, entry, signature) = match command {
        ReportCommand::Show(which) => {
            let view = db.report(&registry, &which.regime, &which.unit, &which.period).await?;
            return print(&view, which.format);
        }
        ReportCommand::Xlsx { which, output } => {
            let view = db.report(&registry, &which.regime, &which.unit, &which.period).await?;
            let bytes = baocao_ingest::xlsx::write_report(&view, false)?;
            files::write(&output, bytes)?;
            outln!("Đã ghi {}.", output.display());
            return Ok(());
        }
        ReportCommand::Upload { file, submit, by, signer, position, format } => {
            let bytes = files::read(&file)?;
            let indicators = db.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
            let upload = baocao_ingest::xlsx::read_report(&file.display().to_string(), &bytes, &indicators)?;
            let request = ReportRequest {
                regime: upload.regime,
                unit: upload.unit,
                period: upload.period.parse().map_err(anyhow::Error::msg)?,
                action: if submit { Action::Submit } else { Action::Save },
                values: upload.values,
                plan: upload.plan,
                actor: by,
                signature: signer.zip(position),
                at: None,
                level: None,
                idempotency: None,
                base_revision: None,
            };
            return print(&db.act_on_report(&registry, request).await?, format);
        }
        ReportCommand::Save { which, entry, signer, position } => (which, Action::Save, entry, signer.zip(position)),
        ReportCommand::Submit { which, entry, signer, position } => {
            (which, Action::Submit, entry, signer.zip(position))
        }
        ReportCommand::Approve(which) => (which, Action::Approve, Entry { values: vec![], plan: vec![] }, None),
        ReportCommand::Return { which, reason } => {
            (which, Action::Return { reason }, Entry { values: vec![], plan: vec![] }, None)
        }
        ReportCommand::Reopen { which, reason } => {
            (which, Action::Reopen { reason }, Entry { values: vec![], plan: vec![] }, None)
        }
    };
    let request = ReportRequest {
        regime: which.regime,
        unit: which.unit,
        period: which.period,
        action,
        values: entry.values.into_iter().collect::<BTreeMap<_, _>>(),
        plan: entry.plan.into_iter().collect::<BTreeMap<_, _>>(),
        actor: which.by,
        signature,
        at: None,
        level: None,
        idempotency: None,
        base_revision: None,
    };
    let view = db.act_on_report(&registry, request).await?;
    print(&view, which.format)
}

fn print(view: &ReportView, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return output::json(view);
    }
    outln!("{} — {} — {}", view.form_name, view.unit_name, view.period_label);
    outln!("Trạng thái: {} · hạn gửi {}", view.status.vietnamese(), format_vn(view.deadline));
    let mut fields = vec!["stt", "label", "unit"];
    fields.extend(view.columns.iter().map(|c| column_key(*c)));
    let mut headers = vec!["STT", "Chỉ tiêu", "Đơn vị tính"];
    headers.extend(view.columns.iter().map(|c| c.heading()));
    output::rows(
        format,
        &fields,
        &headers,
        view.rows.iter().map(|r| {
            let mut row = vec![
                r.stt.clone(),
                format!("{}{}", "  ".repeat(r.indent.into()), r.label),
                r.unit_of_measure.clone().unwrap_or_default(),
            ];
            row.extend(
                view.columns
                    .iter()
                    .map(|c| r.cells.get(column_key(*c)).map(|v| output::number(*v, format)).unwrap_or_default()),
            );
            row
        }),
    )?;
    for f in &view.findings {
        outln!("{}: {}", if f.severity == baocao_core::form::Severity::Error { "Lỗi" } else { "Cảnh báo" }, f.message);
    }
    Ok(())
}

pub async fn completeness(db: &Db, regime: &str, period: &Period, format: Format) -> anyhow::Result<()> {
    let registry = db.load_registry().await?;
    let c = db.completeness(&registry, regime, period).await?;
    if format == Format::Json {
        return output::json(&c);
    }
    outln!(
        "{} · {}: {} đơn vị phải báo cáo, {} đã gửi ({} đúng hạn, {} trễ hạn), {} đã duyệt, {} chưa gửi; hạn {}",
        c.regime,
        period.label(),
        c.expected,
        c.submitted,
        c.on_time,
        c.late,
        c.approved,
        c.missing,
        format_vn(c.deadline)
    );
    output::rows(
        format,
        &["code", "name", "status", "on_time"],
        &["Mã", "Đơn vị", "Trạng thái", "Đúng hạn"],
        c.units.iter().map(|u| {
            vec![
                u.code.clone(),
                u.name.clone(),
                u.status.map_or("Chưa gửi", |s| s.vietnamese()).to_string(),
                match u.on_time {
                    Some(true) => "có",
                    Some(false) => "trễ",
                    None => "",
                }
                .to_string(),
            ]
        }),
    )
}

/// `baocao output`: an output form (biểu đầu ra) for an area and a period.
pub async fn output(db: &Db, args: OutputArgs) -> anyhow::Result<()> {
    let registry = db.load_registry().await?;
    let view = db.consolidate(&registry, &args.form, &args.unit, &args.period, args.include_submitted).await?;
    if let Some(path) = &args.xlsx {
        let bytes = baocao_ingest::xlsx::write_consolidated(&view, false)?;
        files::write(path, bytes)?;
    }
    if args.format == Format::Json {
        return output::json(&view);
    }
    outln!("{} — {} — {}", view.form_name, view.unit_name, view.period_label);
    outln!("Tổng hợp từ {}/{} báo cáo", view.counted, view.expected);
    let mut fields = vec!["stt".to_string(), "label".into(), "code".into(), "unit".into()];
    fields.extend(view.headings.iter().cloned());
    let mut headers = vec!["STT".to_string(), "Chỉ tiêu / Đơn vị".into(), "Mã".into(), "Đơn vị tính".into()];
    headers.extend(view.headings.iter().cloned());
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    output::rows(
        args.format,
        &fields,
        &headers,
        view.rows.iter().map(|r| {
            let mut row = vec![
                r.stt.clone(),
                r.label.clone(),
                r.code.clone().unwrap_or_default(),
                r.unit_of_measure.clone().unwrap_or_default(),
            ];
            row.extend(r.cells.iter().map(|c| c.map(|v| output::number(v, args.format)).unwrap_or_default()));
            row
        }),
    )
}

#[derive(Args)]
pub struct OutputArgs {
    /// The output form's code.
    #[arg(long)]
    form: String,
    /// The area: a province, or any unit with units under it.
    #[arg(long)]
    unit: String,
    #[arg(long)]
    period: Period,
    /// Count submitted reports too, not only approved ones.
    #[arg(long)]
    include_submitted: bool,
    /// Also write the form as a workbook laid out like the printed one.
    #[arg(long)]
    xlsx: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}
