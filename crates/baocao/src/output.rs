//! Printing results as a table for people, or JSON or CSV for programs.

use baocao_core::date::{self, format_vn};
use baocao_core::{Lineage, LineageEntry, MapEntry, UnitVersion};
use chrono::NaiveDate;
use clap::ValueEnum;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn vn(date: Option<NaiveDate>, open: &str) -> String {
    date.map_or_else(|| open.to_string(), format_vn)
}

fn iso(date: Option<NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

const UNIT_HEADERS: [&str; 7] = ["Mã", "Tên", "Loại", "Cấp", "Trực thuộc", "Hiệu lực từ", "Đến hết ngày"];
const UNIT_FIELDS: [&str; 7] = ["code", "name", "kind", "level", "parent_code", "valid_from", "valid_to"];

/// A unit's fields for people (dates dd/mm/yyyy, open ends spelled out).
fn unit_cells(u: &UnitVersion) -> Vec<String> {
    // People read the last day in force; JSON and CSV keep the exclusive end.
    unit_row(u, |d| vn(d, "—"), |d| vn(date::last_day(d), "đang hiệu lực"))
}

/// A unit's fields for programs (ISO dates, open ends empty).
fn unit_fields(u: &UnitVersion) -> Vec<String> {
    unit_row(u, iso, iso)
}

/// A validity's first day: dd/mm/yyyy for people, ISO for programs (CSV).
pub fn first_day(d: Option<NaiveDate>, format: Format) -> String {
    if format == Format::Csv { iso(d) } else { vn(d, "") }
}

/// A validity's end: for people the last day in force, as the pages say it
/// ("đến hết ngày"); for programs the exclusive end, as the API gives it.
pub fn last_day(to: Option<NaiveDate>, format: Format) -> String {
    if format == Format::Csv { iso(to) } else { vn(date::last_day(to), "") }
}

fn unit_row(
    u: &UnitVersion,
    from: impl Fn(Option<NaiveDate>) -> String,
    to: impl Fn(Option<NaiveDate>) -> String,
) -> Vec<String> {
    vec![
        u.code.clone(),
        u.name.clone(),
        u.kind.to_string(),
        u.level.to_string(),
        u.parent_code.clone().unwrap_or_default(),
        from(u.validity.from),
        to(u.validity.to),
    ]
}

fn table(headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(headers.to_vec());
    for row in rows {
        t.add_row(row);
    }
    t
}

fn csv_out(headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    w.write_record(headers)?;
    for row in rows {
        w.write_record(row)?;
    }
    w.flush()?;
    Ok(())
}

/// A number for people (1.234,5) in tables, for programs (1234.5) in CSV.
pub fn number(v: f64, format: Format) -> String {
    if format == Format::Csv { v.to_string() } else { baocao_core::text::format_figure(v) }
}

/// Rows as a table (with Vietnamese `headers`) or CSV (with `fields`).
pub fn rows(
    format: Format,
    fields: &[&str],
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> anyhow::Result<()> {
    match format {
        Format::Csv => csv_out(fields, rows),
        _ => {
            outln!("{}", table(headers, rows));
            Ok(())
        }
    }
}

pub fn units(list: &[UnitVersion], format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => json(list),
        Format::Csv => csv_out(&UNIT_FIELDS, list.iter().map(unit_fields)),
        Format::Table => {
            outln!("{}", table(&UNIT_HEADERS, list.iter().map(unit_cells)));
            outln!("{} đơn vị", list.len());
            Ok(())
        }
    }
}

fn weight(w: Option<f64>) -> String {
    w.map_or_else(|| "chưa rõ".into(), |w| baocao_core::text::format_number(w, 4))
}

pub fn lineage(l: &Lineage, format: Format) -> anyhow::Result<()> {
    let rows = |relation: &'static str, list: &[LineageEntry], csv: bool| -> Vec<Vec<String>> {
        list.iter()
            .map(|e| {
                let mut row = vec![relation.to_string()];
                row.extend(if csv { unit_fields(&e.unit) } else { unit_cells(&e.unit) });
                row.push(e.partial.to_string());
                row.push(if csv { e.weight.map(|w| w.to_string()).unwrap_or_default() } else { weight(e.weight) });
                row.push(e.reorganization.key.clone());
                row
            })
            .collect()
    };
    match format {
        Format::Json => json(l),
        Format::Csv => {
            let mut headers = vec!["relation"];
            headers.extend(UNIT_FIELDS);
            headers.extend(["partial", "weight", "reorganization"]);
            let all =
                rows("predecessor", &l.predecessors, true).into_iter().chain(rows("successor", &l.successors, true));
            csv_out(&headers, all)
        }
        Format::Table => {
            outln!("{}", table(&UNIT_HEADERS, [unit_cells(&l.unit)]));
            let mut headers = vec!["Quan hệ"];
            headers.extend(UNIT_HEADERS);
            headers.extend(["Một phần", "Tỷ lệ", "Sắp xếp"]);
            let all =
                rows("tiền thân", &l.predecessors, false).into_iter().chain(rows("kế thừa", &l.successors, false));
            outln!("{}", table(&headers, all));
            Ok(())
        }
    }
}

pub fn map(list: &[MapEntry], format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => json(list),
        Format::Csv => {
            let mut headers = UNIT_FIELDS.to_vec();
            headers.push("weight");
            csv_out(
                &headers,
                list.iter().map(|m| {
                    let mut row = unit_fields(&m.unit);
                    row.push(m.weight.map(|w| w.to_string()).unwrap_or_default());
                    row
                }),
            )
        }
        Format::Table => {
            let mut headers = UNIT_HEADERS.to_vec();
            headers.push("Tỷ lệ");
            outln!(
                "{}",
                table(
                    &headers,
                    list.iter().map(|m| {
                        let mut row = unit_cells(&m.unit);
                        row.push(weight(m.weight));
                        row
                    })
                )
            );
            Ok(())
        }
    }
}
