//! `baocao indicators …`, `baocao data …`, `baocao periods`.

use std::path::PathBuf;

use anyhow::bail;
use baocao_core::{Period, Periodicity, parse_date, today_in_vietnam};
use baocao_documents::restated::{self, Chunk};
use baocao_ingest::dhis2::{self, DataValueOut, DataValueSetOut};
use baocao_store::Db;
use baocao_store::compose::{Audience, Counting};
use baocao_store::restated::TableQuery;
use chrono::{Datelike, NaiveDate};
use clap::{Subcommand, ValueEnum};

use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum IndicatorCommand {
    /// Creates or updates indicators from a CSV file or a workbook (.xlsx) with the columns
    /// code,name,unit,value_type,aggregation,group[,formula]; all or nothing.
    Import { file: PathBuf },
    /// Lists the indicators.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Interchange {
    Json,
    Csv,
}

#[derive(Subcommand)]
pub enum DataCommand {
    /// Imports DHIS2 dataValueSets (JSON, or DHIS2's CSV layout when the file ends in .csv).
    Import { file: PathBuf },
    /// Exports values of a period as a DHIS2 dataValueSet; with --structure-at, figures of
    /// periods --from..--to composed in the structure of that day (CSV or JSON rows with
    /// the estimated mark), written as they are composed.
    Export {
        /// The period of a dataValueSet (or, with --structure-at, the one period wanted).
        #[arg(long, required_unless_present_all = ["from", "to"], conflicts_with_all = ["from", "to"])]
        period: Option<Period>,
        /// With --structure-at: the first period.
        #[arg(long, requires_all = ["to", "structure_at"])]
        from: Option<Period>,
        /// With --structure-at: the last period.
        #[arg(long, requires = "from")]
        to: Option<Period>,
        /// Compose the figures in the structure of this day (YYYY-MM-DD or dd/mm/yyyy):
        /// units of that day, values of units before or after it restated to them.
        #[arg(long, value_parser = parse_date)]
        structure_at: Option<NaiveDate>,
        /// With --structure-at: only these indicators (repeat the option); every indicator when absent.
        #[arg(long = "indicator", requires = "structure_at")]
        indicators: Vec<String>,
        /// Only this unit (and with --children the units under it in that period,
        /// or on the structure day).
        #[arg(long)]
        org_unit: Option<String>,
        #[arg(long)]
        children: bool,
        /// With --structure-at: only units of this level on the structure day
        /// (1 the provinces; communes are 2 from 01/07/2025, 3 before), e.g. every
        /// province's total without its communes.
        #[arg(long, requires = "structure_at", value_parser = clap::value_parser!(u8).range(1..=4))]
        level: Option<u8>,
        /// Count the values of submitted reports too, not only approved ones
        /// (drafts and returned reports never count).
        #[arg(long)]
        include_submitted: bool,
        #[arg(long, value_enum, default_value = "json")]
        format: Interchange,
    },
    /// The value of an indicator for a unit and period, in the structure of a chosen day.
    Query {
        #[arg(long)]
        indicator: String,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        period: Period,
        /// Day whose structure to use (YYYY-MM-DD or dd/mm/yyyy); the period's last day when absent.
        #[arg(long, value_parser = parse_date)]
        structure_at: Option<NaiveDate>,
        /// Count the values of submitted reports too, not only approved ones
        /// (drafts and returned reports never count).
        #[arg(long)]
        include_submitted: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn indicators(db: &Db, command: IndicatorCommand) -> anyhow::Result<()> {
    match command {
        IndicatorCommand::Import { file } => {
            let name = file.display().to_string();
            let list = if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
                let bytes = crate::files::read(&file)?;
                baocao_ingest::indicators::read_xlsx(&name, &bytes)?
            } else {
                let text = crate::files::read_text(&file)?;
                baocao_ingest::indicators::read_csv(&name, &text)?
            };
            let count = db.import_indicators(&crate::cli_actor(), &list).await?;
            outln!("Đã tạo {} chỉ tiêu, cập nhật {}.", count.imported, count.updated);
            Ok(())
        }
        IndicatorCommand::List { format } => {
            let list = db.indicators().await?;
            match format {
                Format::Json => output::json(&list),
                _ => output::rows(
                    format,
                    &["code", "name", "unit", "value_type", "aggregation", "group"],
                    &["Mã", "Tên chỉ tiêu", "Đơn vị tính", "Kiểu", "Tổng hợp", "Nhóm"],
                    list.iter().map(|i| {
                        vec![
                            i.code.clone(),
                            i.name.clone(),
                            i.unit.clone(),
                            i.value_type.to_string(),
                            i.aggregation.word().to_string(),
                            i.group.clone().unwrap_or_default(),
                        ]
                    }),
                ),
            }
        }
    }
}

pub async fn data(db: &Db, command: DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Import { file } => {
            // A national file of millions of values takes a while: a
            // terminal shows which step is under way.
            let progress = crate::progress::Progress::new(false);
            progress.stage("đọc tệp");
            let raw = read_values(&file)?;
            progress.stage(&format!("kiểm tra và ghi {} giá trị", raw.len()));
            let registry = db.load_registry().await?;
            let label =
                file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
            let summary = db.import_data_values(&crate::cli_actor(), &label, &registry, raw).await?;
            progress.finish();
            output::json(&summary)?;
            if summary.status == "ERROR" {
                bail!("không nhập được giá trị nào");
            }
            Ok(())
        }
        DataCommand::Export {
            period,
            from,
            to,
            structure_at,
            indicators,
            org_unit,
            children,
            level,
            include_submitted,
            format,
        } => {
            let registry = db.load_registry().await?;
            if let Some(day) = structure_at {
                let periods = match (period, from, to) {
                    (Some(p), _, _) => vec![p],
                    (None, Some(first), Some(last)) => Period::range(first, last).map_err(anyhow::Error::msg)?,
                    _ => bail!("cần --period, hoặc --from và --to"),
                };
                let mut units = registry.units_of_area(org_unit.as_deref(), children, day)?;
                units.retain(|u| level.is_none_or(|level| u.level == level));
                let indicators = if indicators.is_empty() {
                    db.indicators().await?.into_iter().map(|i| i.code).collect()
                } else {
                    indicators
                };
                let query = TableQuery {
                    indicators,
                    units: units.iter().map(|u| u.code.clone()).collect(),
                    periods,
                    structure_at: day,
                };
                return export_restated(db, &registry, &query, Counting::Official { include_submitted }, format).await;
            }
            let Some(period) = period else { bail!("cần --period (--from và --to đi cùng --structure-at)") };
            let counting = Counting::Official { include_submitted };
            let values: Vec<DataValueOut> = db
                .export_values(&registry, &period, org_unit.as_deref(), children, counting)
                .await?
                .into_iter()
                .map(|v| DataValueOut::new(v.indicator, v.period, v.unit_code, v.value, v.comment, v.stored_at))
                .collect();
            match format {
                Interchange::Json => output::json(&DataValueSetOut { data_values: values }),
                Interchange::Csv => {
                    out!("{}", dhis2::write_csv(&values));
                    Ok(())
                }
            }
        }
        DataCommand::Query { indicator, unit, period, structure_at, include_submitted, format } => {
            let registry = db.load_registry().await?;
            let audience = Audience::everywhere(Counting::Official { include_submitted });
            let composed = db.query_value(&registry, &indicator, &unit, &period, structure_at, audience).await?;
            match format {
                Format::Json => output::json(&composed),
                _ => {
                    let value = composed
                        .value
                        .map_or_else(|| "không có số liệu".into(), |v| baocao_core::text::format_number(v, 2));
                    let estimated = if composed.estimated { " (ước tính)" } else { "" };
                    let pulled =
                        if composed.pulled { " (có phần lấy tự động từ hệ thống khác)" } else { "" };
                    outln!("{indicator} · {unit} · {}: {value}{estimated}{pulled}", period.label());
                    output::rows(
                        format,
                        &["unit", "name", "value", "weight"],
                        &["Mã", "Đơn vị", "Giá trị", "Tỷ lệ"],
                        composed.sources.iter().map(|s| {
                            vec![
                                s.unit.clone(),
                                s.name.clone(),
                                s.value.map(|v| baocao_core::text::format_number(v, 2)).unwrap_or_default(),
                                baocao_core::text::format_number(s.weight, 4),
                            ]
                        }),
                    )
                }
            }
        }
    }
}

/// The values of a DHIS2 file: its CSV layout when its name ends in .csv,
/// else a JSON dataValueSet.
fn read_values(file: &std::path::Path) -> anyhow::Result<Vec<baocao_core::datavalue::RawValue>> {
    let text = crate::files::read_text(file)?;
    let name = file.display().to_string();
    Ok(if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        dhis2::read_csv(&name, &text)?
    } else {
        dhis2::read_json(&name, &text)?
    })
}

/// Writes the figures of `query` to standard output as they are composed,
/// with progress on a terminal (the period under way).
async fn export_restated(
    db: &Db,
    registry: &baocao_core::Registry,
    query: &TableQuery,
    counting: Counting,
    format: Interchange,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let progress = crate::progress::Progress::new(false);
    let total = query.periods.len();
    let mut done = 0;
    progress.stage(&format!("tổng hợp kỳ 1/{total}"));
    let mut chunk = Chunk::First;
    let mut failed: Option<std::io::Error> = None;
    db.restate_table(registry, query, Audience::everywhere(counting), |cells| {
        let text = match format {
            Interchange::Csv => restated::csv_chunk(&cells, registry, query.structure_at, chunk),
            Interchange::Json => restated::json_chunk(&cells, registry, query.structure_at, chunk),
        };
        chunk = Chunk::Next;
        done += 1;
        if done < total {
            progress.stage(&format!("tổng hợp kỳ {}/{total}", done + 1));
        }
        let written = std::io::stdout().lock().write_all(text.as_bytes());
        let go_on = written.is_ok();
        failed = written.err();
        std::future::ready(go_on)
    })
    .await?;
    progress.finish();
    if let Some(e) = failed {
        return Err(e.into());
    }
    if format == Interchange::Json {
        out!("{}", restated::JSON_END);
    }
    Ok(())
}

/// `baocao periods`: periods with their Decree 09/2019 cut-off windows.
pub fn periods(
    periodicity: Periodicity,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: Format,
) -> anyhow::Result<()> {
    let today = today_in_vietnam();
    let from = from.unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("1 January"));
    let to = to.unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 12, 31).expect("31 December"));
    let list = Period::ending_between(periodicity, from, to);
    match format {
        Format::Json => {
            #[derive(serde::Serialize)]
            struct Row {
                period: Period,
                label: String,
                start: NaiveDate,
                end: NaiveDate,
                cutoff_from: NaiveDate,
                cutoff_to: NaiveDate,
            }
            let rows: Vec<Row> = list
                .iter()
                .map(|p| {
                    let (cutoff_from, cutoff_to) = p.cutoff();
                    Row { period: *p, label: p.label(), start: p.start(), end: p.end(), cutoff_from, cutoff_to }
                })
                .collect();
            output::json(&rows)
        }
        _ => output::rows(
            format,
            &["period", "label", "start", "end", "cutoff_from", "cutoff_to"],
            &["Kỳ", "Tên kỳ", "Từ ngày", "Đến ngày", "Chốt số liệu từ", "Chốt số liệu đến"],
            list.iter().map(|p| {
                let (a, b) = p.cutoff();
                let date =
                    |d: NaiveDate| if format == Format::Csv { d.to_string() } else { baocao_core::date::format_vn(d) };
                vec![p.to_string(), p.label(), date(p.start()), date(p.end()), date(a), date(b)]
            }),
        ),
    }
}
