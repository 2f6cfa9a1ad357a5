//! `baocao agencies`, `baocao roster` and `baocao accounts`: agencies, the
//! rosters of their officials over time, and account plans for the shared
//! systems.

use std::path::{Path, PathBuf};

use anyhow::Context;
use baocao_core::date::format_vn;
use baocao_core::directory::RULE;
use baocao_core::{parse_date, today_in_vietnam};
use baocao_documents::plans::{PlanRows, address_rows, step_rows};
use baocao_ingest::Problems;
use baocao_store::Db;
use baocao_store::account_plan::PlannedAddress;
use chrono::NaiveDate;
use clap::Subcommand;

use crate::cli_actor;
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum AgencyCommand {
    /// Imports agencies (CSV or XLSX; code, name, kind, parent_code,
    /// unit_code, valid_from, valid_to, successor_codes, archive; Vietnamese
    /// headers accepted). An agency whose unit has ended for good must end
    /// too, with successor agencies or an archive decision.
    Import { file: PathBuf },
    /// Every version of an agency, its predecessors and its successors.
    Show {
        code: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Agencies in force on a day.
    List {
        #[arg(long, value_parser = parse_date)]
        at: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum RosterCommand {
    /// Imports rosters (CSV or XLSX): each agency listed gets this list as
    /// its whole roster from --from; people listed elsewhere until then
    /// move, people no longer listed leave.
    Import {
        file: PathBuf,
        /// The day the list holds from.
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
    },
    /// The workbook agencies fill in: Vietnamese headers, drop-down lists
    /// of the agencies in force, genders and roles.
    Template {
        #[arg(long, short)]
        output: PathBuf,
        #[arg(long, value_parser = parse_date)]
        at: Option<NaiveDate>,
    },
    /// The roster of a day.
    List {
        #[arg(long, value_parser = parse_date)]
        at: Option<NaiveDate>,
        #[arg(long)]
        agency: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// What an account plan is about.
#[derive(clap::Args)]
pub struct PlanArgs {
    /// `email` (official addresses), `baocao` (accounts of this system) or
    /// `signature` (certificate requests: forms 01 and 02, as a workbook).
    #[arg(long)]
    system: String,
    /// The effective day (00:00 of it); today when absent.
    #[arg(long, value_parser = parse_date)]
    at: Option<NaiveDate>,
    /// The province's mail domain, e.g. quangngai.gov.vn; addresses in it
    /// are also the reporting system's usernames.
    #[arg(long)]
    domain: String,
    /// Days a retired grant stays readable (legacy data) before it closes.
    #[arg(long, default_value_t = baocao_core::directory::DEFAULT_GRACE_DAYS)]
    grace_days: u64,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Write a workbook instead of printing: the plan (email, baocao; the
    /// same plan of the same day gives the same file) or the certificate
    /// requests (signature).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum AccountCommand {
    /// The accounts a shared system needs on a day, from the rosters.
    /// `email`: official addresses, existing ones kept, new ones generated
    /// by the documented scheme (printed with the plan). `baocao`: accounts
    /// and grants of this system from the roles the rosters ask for.
    Plan(PlanArgs),
    /// Carries out the `baocao` plan of a day. Each step is its own
    /// transaction; running it again after an interruption does the rest.
    Apply(PlanArgs),
}

fn is_xlsx(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// Reads `file` with the CSV or the workbook reader, by its extension.
fn read<T>(
    file: &Path,
    csv: fn(&str, &str) -> Result<T, Problems>,
    xlsx: fn(&str, &[u8]) -> Result<T, Problems>,
) -> anyhow::Result<T> {
    let name = file.display().to_string();
    Ok(if is_xlsx(file) {
        xlsx(&name, &crate::files::read(file)?)?
    } else {
        csv(&name, &crate::files::read_text(file)?)?
    })
}

pub async fn agencies(db: &Db, command: AgencyCommand) -> anyhow::Result<()> {
    use baocao_ingest::roster::{read_agencies_csv, read_agencies_xlsx};
    match command {
        AgencyCommand::Import { file } => {
            let agencies = read(&file, read_agencies_csv, read_agencies_xlsx)?;
            let n = db.import_agencies(&cli_actor(), &agencies).await?;
            outln!("Đã nhập {n} cơ quan.");
        }
        AgencyCommand::Show { code, format } => {
            let lineage = db.agency_lineage(&code).await?;
            if format == Format::Json {
                return output::json(&lineage);
            }
            let rows = lineage
                .versions
                .iter()
                .map(|a| ("phiên bản", a))
                .chain(lineage.predecessors.iter().map(|a| ("tiền thân", a)))
                .chain(lineage.successors.iter().map(|a| ("kế thừa", a)));
            output::rows(
                format,
                &["relation", "code", "name", "unit_code", "valid_from", "valid_to", "successor_codes", "archive"],
                &[
                    "Quan hệ",
                    "Mã định danh",
                    "Tên cơ quan",
                    "Đơn vị hành chính",
                    "Hiệu lực từ",
                    "Đến hết ngày",
                    "Kế thừa",
                    "Lưu trữ",
                ],
                rows.map(|(relation, a)| {
                    vec![
                        relation.to_string(),
                        a.code.clone(),
                        a.name.clone(),
                        a.unit_code.clone().unwrap_or_default(),
                        output::first_day(a.valid_from, format),
                        output::last_day(a.valid_to, format),
                        a.successor_codes.join(", "),
                        a.archive.clone().unwrap_or_default(),
                    ]
                }),
            )?;
        }
        AgencyCommand::List { at, format } => {
            let list = db.agencies_at(at.unwrap_or_else(today_in_vietnam)).await?;
            if format == Format::Json {
                return output::json(&list);
            }
            output::rows(
                format,
                &["code", "name", "kind", "parent_code", "unit_code", "valid_from"],
                &["Mã định danh", "Tên cơ quan", "Loại", "Cấp trên", "Đơn vị hành chính", "Hiệu lực từ"],
                list.iter().map(|a| {
                    vec![
                        a.code.clone(),
                        a.name.clone(),
                        a.kind.clone(),
                        a.parent_code.clone().unwrap_or_default(),
                        a.unit_code.clone().unwrap_or_default(),
                        a.valid_from.map(format_vn).unwrap_or_default(),
                    ]
                }),
            )?;
        }
    }
    Ok(())
}

pub async fn roster(db: &Db, command: RosterCommand) -> anyhow::Result<()> {
    use baocao_ingest::roster::{read_roster_csv, read_roster_xlsx};
    match command {
        RosterCommand::Import { file, from } => {
            let listed = read(&file, read_roster_csv, read_roster_xlsx)?;
            let s = db.import_roster(&cli_actor(), &listed, from).await?;
            outln!(
                "{} người trong danh sách từ ngày {}: {} người mới, {} vị trí công tác bắt đầu, {} kết thúc, {} điều chuyển, {} không đổi.",
                listed.len(),
                format_vn(from),
                s.people_added,
                s.postings_begun,
                s.postings_ended,
                s.transfers,
                s.unchanged
            );
        }
        RosterCommand::Template { output, at } => {
            let agencies: Vec<(String, String)> = db
                .agencies_at(at.unwrap_or_else(today_in_vietnam))
                .await?
                .into_iter()
                .map(|a| (a.code, a.name))
                .collect();
            let bytes = baocao_ingest::roster::write_roster_template(&agencies)?;
            crate::files::write(&output, bytes)?;
            outln!("Đã ghi mẫu danh sách với {} cơ quan vào {}", agencies.len(), output.display());
        }
        RosterCommand::List { at, agency, format } => {
            let list = db.roster_at(at.unwrap_or_else(today_in_vietnam), agency.as_deref()).await?;
            if format == Format::Json {
                return output::json(&list);
            }
            output::rows(
                format,
                &["agency_code", "full_name", "birth_date", "position", "post", "email", "since"],
                &["Cơ quan", "Họ và tên", "Ngày sinh", "Chức vụ", "Vị trí công tác", "Email công vụ", "Từ ngày"],
                list.iter().map(|e| {
                    vec![
                        e.agency_code.clone(),
                        e.full_name.clone(),
                        format_vn(e.birth_date),
                        e.position.clone(),
                        e.post.clone(),
                        e.email.clone().unwrap_or_default(),
                        format_vn(e.since),
                    ]
                }),
            )?;
        }
    }
    Ok(())
}

/// The official addresses of a day, with what the scheme noticed on the way.
async fn address_plan(db: &Db, day: NaiveDate, domain: &str) -> anyhow::Result<Vec<PlannedAddress>> {
    let plan = db.address_plan(day, domain).await?;
    for d in &plan.duplicates {
        eprintln!(
            "có thể trùng người: {} ({}) có trong danh sách của {}",
            d.name,
            d.birth_date.map_or("không rõ ngày sinh".into(), format_vn),
            d.agencies.join(", ")
        );
    }
    for r in &plan.refused {
        eprintln!("không đặt được địa chỉ thư cho người {}: {}", r.person, r.reason);
    }
    Ok(plan.addresses)
}

/// The certificate requests of a day (forms 01 and 02), as a workbook.
async fn certificate_requests(db: &Db, args: &PlanArgs, day: NaiveDate) -> anyhow::Result<()> {
    let output = args.output.as_ref().context("--system signature ghi ra tệp Excel: cần --output TỆP.xlsx")?;
    let addresses = address_plan(db, day, &args.domain).await?;
    let (bytes, people, agencies) = baocao_documents::plans::certificate_requests(db, day, &addresses).await?;
    crate::files::write(output, bytes)?;
    outln!("Đã ghi {people} đề nghị cấp chứng thư cá nhân và {agencies} chứng thư tổ chức vào {}", output.display());
    Ok(())
}

/// Prints a plan, or writes it as a workbook when `output` is given.
fn emit_plan(plan: PlanRows, format: Format, output: Option<&PathBuf>, day: NaiveDate) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            crate::files::write(path, plan.workbook(day)?)?;
            outln!("Đã ghi phương án vào {}", path.display());
            Ok(())
        }
        None => output::rows(format, plan.fields, plan.headers, plan.rows),
    }
}

pub async fn accounts(db: &Db, command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Plan(args) => {
            let day = args.at.unwrap_or_else(today_in_vietnam);
            match args.system.as_str() {
                "email" => {
                    let plan = address_plan(db, day, &args.domain).await?;
                    if args.format == Format::Json && args.output.is_none() {
                        return output::json(
                            &serde_json::json!({ "system": "email", "at": day, "rule": RULE, "accounts": plan }),
                        );
                    }
                    if args.format == Format::Table && args.output.is_none() {
                        outln!("{RULE}\n");
                    }
                    emit_plan(address_rows(&plan), args.format, args.output.as_ref(), day)
                }
                "baocao" => {
                    let steps = db.reporting_plan(day, &args.domain, args.grace_days).await?;
                    if args.format == Format::Json && args.output.is_none() {
                        return output::json(&steps);
                    }
                    emit_plan(step_rows(&steps), args.format, args.output.as_ref(), day)
                }
                "signature" => certificate_requests(db, &args, day).await,
                other => anyhow::bail!(
                    "không có hệ thống «{other}»: các hệ thống lập phương án là email, baocao và signature"
                ),
            }
        }
        AccountCommand::Apply(args) => {
            anyhow::ensure!(
                args.system == "baocao",
                "only the baocao plan is carried out here; the email plan is a list for the mail system"
            );
            let day = args.at.unwrap_or_else(today_in_vietnam);
            let steps = db.apply_reporting_plan(&cli_actor(), day, &args.domain, args.grace_days).await?;
            outln!("Đã thực hiện {} bước, hiệu lực từ ngày {}.", steps, format_vn(day));
            Ok(())
        }
    }
}
