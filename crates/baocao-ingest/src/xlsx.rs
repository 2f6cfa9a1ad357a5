//! Reports as spreadsheets: a template laid out like the printed form, to
//! download, fill in and upload again.
//!
//! The workbook has two sheets: «Biểu mẫu», the form as printed (national
//! motto, title, reporting unit and period, the table), where only the
//! entered columns of a report that can still be edited are unlocked; and
//! «Thông tin», which says which regime, unit and period the file is for,
//! so that an upload needs no other input.

use std::collections::{BTreeMap, HashMap};

use baocao_core::Indicator;
use baocao_core::date::format_vn;
use baocao_core::form::Column;
use baocao_core::form::Layout;
use baocao_core::report::{Consolidated, ReportView, column_key};
use baocao_core::table::{Cell, Table};
use baocao_core::text::parse_vn_number;
use calamine::Data;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Note, Workbook, XlsxError};

use crate::error::{IngestError, Location, Problems};

pub const FORM_SHEET: &str = "Biểu mẫu";
pub const INFO_SHEET: &str = "Thông tin";
const CODE_HEADING: &str = "Mã chỉ tiêu";
const HEADER_ROW: u32 = 8;

/// What an uploaded workbook says.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    pub regime: String,
    pub unit: String,
    pub period: String,
    /// This period's values by indicator code, as interchange numbers.
    pub values: BTreeMap<String, String>,
    /// Year plan values by indicator code.
    pub plan: BTreeMap<String, String>,
}

/// What marks a workbook made from the demo's data.
pub const DEMO_MARK: &str = "BẢN TRÌNH DIỄN — DỮ LIỆU MINH HỌA, KHÔNG CÓ GIÁ TRỊ PHÁP LÝ";

/// The cell formats of a printed form.
struct Formats {
    title: Format,
    motto: Format,
    head: Format,
    cell: Format,
    heading_row: Format,
    number: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            title: Format::new().set_bold().set_align(FormatAlign::Center),
            motto: Format::new()
                .set_bold()
                .set_underline(rust_xlsxwriter::FormatUnderline::Single)
                .set_align(FormatAlign::Center),
            head: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_border(FormatBorder::Thin),
            cell: Format::new().set_border(FormatBorder::Thin),
            heading_row: Format::new().set_bold().set_border(FormatBorder::Thin),
            number: Format::new().set_num_format("#,##0.##").set_border(FormatBorder::Thin),
        }
    }
}

/// The first four rows of a sheet laid out like a printed form: the
/// national motto, the demo's mark if `demo`, and the title, across
/// `columns` columns.
fn sheet_top(
    sheet: &mut rust_xlsxwriter::Worksheet,
    f: &Formats,
    title: &str,
    columns: usize,
    demo: bool,
) -> Result<(), XlsxError> {
    let last_col = (columns.max(1) - 1) as u16;
    sheet.set_name(FORM_SHEET)?;
    // Across the table's columns; a table of one column (or none: a
    // dashboard's view that says why it cannot be shown) has nothing to merge.
    let across = |sheet: &mut rust_xlsxwriter::Worksheet, row: u32, text: &str, format: &Format| {
        if last_col == 0 {
            sheet.write_string_with_format(row, 0, text, format).map(|_| ())
        } else {
            sheet.merge_range(row, 0, row, last_col, text, format).map(|_| ())
        }
    };
    across(sheet, 0, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", &f.title)?;
    across(sheet, 1, "Độc lập - Tự do - Hạnh phúc", &f.motto)?;
    if demo {
        // On the sheet and on every printed page.
        let mark = Format::new().set_bold().set_font_color("#B71C1C").set_align(FormatAlign::Center);
        across(sheet, 2, DEMO_MARK, &mark)?;
        sheet.set_header(format!("&C&\"-,Bold\"{DEMO_MARK}"));
    }
    across(sheet, 3, &title.to_uppercase(), &f.title)?;
    Ok(())
}

/// The top of a printed form (national motto, title, three lines about
/// the unit and period) and the table's header row.
fn sheet_head(
    sheet: &mut rust_xlsxwriter::Worksheet,
    f: &Formats,
    title: &str,
    lines: [String; 3],
    headings: &[&str],
    demo: bool,
) -> Result<(), XlsxError> {
    sheet_top(sheet, f, title, headings.len(), demo)?;
    for (i, line) in lines.iter().enumerate() {
        sheet.write_string(4 + i as u32, 0, line)?;
    }
    for (i, h) in headings.iter().enumerate() {
        sheet.write_string_with_format(HEADER_ROW, i as u16, *h, &f.head)?;
    }
    sheet.set_column_width(0, 6)?;
    sheet.set_column_width(1, 48)?;
    sheet.set_column_width(2, 22)?;
    sheet.set_column_width(3, 12)?;
    for j in 4..headings.len() {
        sheet.set_column_width(j as u16, 16)?;
    }
    sheet.set_row_height(HEADER_ROW, 45)?;
    Ok(())
}

/// Writes a report as a workbook laid out like the printed form; `demo`
/// marks it as made from the demo's data.
pub fn write_report(view: &ReportView, demo: bool) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let f = Formats::new();
    let Formats { cell, heading_row, number, .. } = &f;
    let input = number.clone().set_unlocked().set_background_color("#FFF7D6");
    let editable = view.status.editable();
    let sheet = workbook.add_worksheet();
    let mut headings = vec!["STT", "Chỉ tiêu", CODE_HEADING, "Đơn vị tính"];
    headings.extend(view.columns.iter().map(|c| c.heading()));
    sheet_head(
        sheet,
        &f,
        &view.form_name,
        [
            format!("Đơn vị báo cáo: {} (mã {})", view.unit_name, view.unit),
            format!("Kỳ báo cáo: {} ({})", view.period_label, view.period),
            format!("Trạng thái: {} · Hạn gửi: {}", view.status.vietnamese(), format_vn(view.deadline)),
        ],
        &headings,
        demo,
    )?;
    for (i, row) in view.rows.iter().enumerate() {
        let r = HEADER_ROW + 1 + i as u32;
        let label = format!("{}{}", "    ".repeat(row.indent.into()), row.label);
        let text = if row.heading { heading_row } else { cell };
        sheet.write_string_with_format(r, 0, &row.stt, text)?;
        sheet.write_string_with_format(r, 1, &label, text)?;
        sheet.write_string_with_format(r, 2, row.indicator.as_deref().unwrap_or(""), cell)?;
        sheet.write_string_with_format(r, 3, row.unit_of_measure.as_deref().unwrap_or(""), cell)?;
        for (j, column) in view.columns.iter().enumerate() {
            let c = 4 + j as u16;
            // A figure pulled from another system is corrected there: locked
            // here, and said so in its cell's note.
            let pulled = row.pulled_from.as_deref().filter(|_| *column == Column::ThisPeriod);
            let said: Vec<String> = [
                row.estimated(*column).then(|| "Có phần ước tính (chia theo tỷ lệ khi đơn vị tách, nhập)".to_string()),
                pulled.map(|system| format!("Lấy tự động từ {system}")),
                (pulled.is_none() && row.pulled(*column))
                    .then(|| "Có phần lấy tự động từ hệ thống khác (nguồn cấp số liệu)".to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !said.is_empty() {
                sheet.insert_note(r, c, &Note::new(said.join(". ")).set_author("baocao"))?;
            }
            let open = editable && column.entered() && row.indicator.is_some() && !row.computed && pulled.is_none();
            let format = if open { &input } else { number };
            match row.cells.get(column_key(*column)) {
                Some(v) => sheet.write_number_with_format(r, c, *v, format)?,
                None => sheet.write_blank(r, c, format)?,
            };
        }
    }
    sheet.protect();

    let info = workbook.add_worksheet();
    info.set_name(INFO_SHEET)?;
    for (i, (key, value)) in [
        ("regime", view.regime.as_str()),
        ("unit", view.unit.as_str()),
        ("period", &view.period.to_string()),
        ("form", &view.form),
    ]
    .iter()
    .enumerate()
    {
        info.write_string(i as u32, 0, *key)?;
        info.write_string(i as u32, 1, *value)?;
    }
    info.protect();
    workbook.save_to_buffer()
}

/// Writes an output form (biểu đầu ra) laid out like the printed one;
/// `demo` marks it as made from the demo's data.
pub fn write_consolidated(view: &Consolidated, demo: bool) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let f = Formats::new();
    let sheet = workbook.add_worksheet();
    let by_unit = view.layout == Layout::ByUnit;
    let mut headings = vec![
        "STT",
        if by_unit { "Đơn vị" } else { "Chỉ tiêu" },
        if by_unit { "Mã đơn vị" } else { CODE_HEADING },
        "Đơn vị tính",
    ];
    headings.extend(view.headings.iter().map(String::as_str));
    let counted = if view.include_submitted { "đã gửi hoặc đã duyệt" } else { "đã duyệt" };
    sheet_head(
        sheet,
        &f,
        &view.form_name,
        [
            format!("Địa bàn: {} (mã {})", view.unit_name, view.unit),
            format!("Kỳ báo cáo: {} ({})", view.period_label, view.period),
            format!("Tổng hợp từ {}/{} báo cáo {counted}", view.counted, view.expected),
        ],
        &headings,
        demo,
    )?;
    for (i, row) in view.rows.iter().enumerate() {
        let r = HEADER_ROW + 1 + i as u32;
        let text = if row.heading { &f.heading_row } else { &f.cell };
        sheet.write_string_with_format(r, 0, &row.stt, text)?;
        sheet.write_string_with_format(r, 1, format!("{}{}", "    ".repeat(row.indent.into()), row.label), text)?;
        sheet.write_string_with_format(r, 2, row.code.as_deref().unwrap_or(""), &f.cell)?;
        sheet.write_string_with_format(r, 3, row.unit_of_measure.as_deref().unwrap_or(""), &f.cell)?;
        // As the page shows it: a marked figure keeps its marks in a note,
        // an estimated one in italics.
        let marks: Vec<&str> = [(row.estimated, "* ước tính"), (row.pulled, "‡ lấy tự động từ hệ thống khác")]
            .into_iter()
            .filter_map(|(marked, note)| marked.then_some(note))
            .collect();
        let number = if row.estimated { f.number.clone().set_italic() } else { f.number.clone() };
        for (j, value) in row.cells.iter().enumerate() {
            let col = 4 + j as u16;
            match value {
                Some(v) => {
                    if !marks.is_empty() {
                        sheet.insert_note(r, col, &Note::new(marks.join("; ")).set_author("baocao"))?;
                    }
                    sheet.write_number_with_format(r, col, *v, &number)?
                }
                None => sheet.write_blank(r, col, &f.number)?,
            };
        }
    }
    let notes = [
        (view.rows.iter().any(|r| r.estimated), baocao_core::report::ESTIMATED_NOTE),
        (view.rows.iter().any(|r| r.pulled), baocao_core::report::PULLED_NOTE),
    ];
    let below = HEADER_ROW + 2 + view.rows.len() as u32;
    for (i, note) in notes.into_iter().filter_map(|(shown, note)| shown.then_some(note)).enumerate() {
        sheet.write_string(below + i as u32, 0, note)?;
    }
    sheet.protect();
    workbook.save_to_buffer()
}

/// The spreadsheet name of a cell: column letters and 1-based row, e.g. E10.
/// Writes a table as a page shows it (totals, completeness, a
/// comparison): its title and lines on top, numbers as numbers in the
/// Vietnamese grouping, a marked figure (`*`, `†`) in italics with its mark
/// in a note of the cell, and the table's notes below it.
pub fn write_table(table: &Table, demo: bool) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    table_sheet(workbook.add_worksheet(), table, demo)?;
    workbook.save_to_buffer()
}

/// Writes several tables (a dashboard's views), each on a sheet of its own
/// as [`write_table`] writes one, named by its name in the list, numbered.
pub fn write_tables(tables: &[(&str, &Table)], demo: bool) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    for (n, (name, table)) in tables.iter().enumerate() {
        let sheet = workbook.add_worksheet();
        table_sheet(sheet, table, demo)?;
        sheet.set_name(sheet_name(n + 1, name))?;
    }
    workbook.save_to_buffer()
}

/// A sheet's name for the `n`th table, named `name`: numbered, so two
/// tables of one name stay apart, and kept to what spreadsheets accept (at
/// most 31 characters, none of `[]:*?/\`, no apostrophe at either end).
fn sheet_name(n: usize, name: &str) -> String {
    let clean: String = name.chars().map(|c| if "[]:*?/\\'".contains(c) { ' ' } else { c }).collect();
    let named: String = format!("{n}. {}", clean.trim()).chars().take(31).collect();
    named.trim_end().to_string()
}

/// One table on `sheet`, as [`write_table`] describes.
fn table_sheet(sheet: &mut rust_xlsxwriter::Worksheet, table: &Table, demo: bool) -> Result<(), XlsxError> {
    let f = Formats::new();
    sheet_top(sheet, &f, &table.title, table.headings.len(), demo)?;
    let mut row = 4;
    for line in &table.lines {
        sheet.write_string(row, 0, line)?;
        row += 1;
    }
    row += 1;
    let header = row;
    for (j, h) in table.headings.iter().enumerate() {
        sheet.write_string_with_format(header, j as u16, h, &f.head)?;
    }
    let one_decimal = f.number.clone().set_num_format("#,##0.0");
    let marked = |format: &Format| format.clone().set_italic();
    for r in &table.rows {
        row += 1;
        let text = if r.heading { &f.heading_row } else { &f.cell };
        for (j, cell) in r.cells.iter().enumerate() {
            let col = j as u16;
            match cell {
                Cell::Text(s) if j == 1 && r.indent > 0 => {
                    sheet.write_string_with_format(row, col, format!("{}{s}", "    ".repeat(r.indent.into())), text)?
                }
                Cell::Text(s) => sheet.write_string_with_format(row, col, s, text)?,
                Cell::Number { value, decimals, marks } => {
                    let plain = if *decimals == 0 { &f.number } else { &one_decimal };
                    match value {
                        None => sheet.write_blank(row, col, plain)?,
                        Some(v) if marks.is_empty() => sheet.write_number_with_format(row, col, *v, plain)?,
                        Some(v) => {
                            sheet.insert_note(row, col, &Note::new(*marks).set_author("baocao"))?;
                            sheet.write_number_with_format(row, col, *v, &marked(plain))?
                        }
                    }
                }
            };
        }
    }
    row += 2;
    for note in &table.notes {
        sheet.write_string(row, 0, note)?;
        row += 1;
    }
    for (j, h) in table.headings.iter().enumerate() {
        let width = table.rows.iter().filter_map(|r| r.cells.get(j)).map(|c| c.shown().chars().count()).max();
        let width = width.unwrap_or(0).max(h.chars().count().min(24)).clamp(6, 60);
        sheet.set_column_width(j as u16, width as f64 + 2.0)?;
    }
    sheet.set_freeze_panes(header + 1, 0)?;
    Ok(())
}

pub fn cell_name(row: u32, col: u32) -> String {
    let mut letters = String::new();
    let mut n = col + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.insert(0, (b'A' + rem as u8) as char);
        n = (n - 1) / 26;
    }
    format!("{letters}{}", row + 1)
}

fn text_of(data: &Data) -> Option<String> {
    match data {
        Data::Empty => None,
        Data::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Data::Float(f) => Some(f.to_string()),
        Data::Int(i) => Some(i.to_string()),
        Data::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Reads a filled template. Values are checked against their indicators'
/// types here, so that every problem names its sheet and cell.
pub fn read_report(file: &str, bytes: &[u8], indicators: &HashMap<String, Indicator>) -> Result<Upload, Problems> {
    let problem = |sheet: Option<&str>, cell: Option<String>, message: String| IngestError {
        location: Location { file: file.to_string(), sheet: sheet.map(Into::into), cell, ..Default::default() },
        message,
    };
    let mut workbook = crate::workbook::Workbook::open(file, bytes)?;
    let mut errors = Vec::new();

    let info = workbook.sheet(INFO_SHEET)?.ok_or_else(|| {
        Problems(vec![problem(
            None,
            None,
            format!("không có trang tính «{INFO_SHEET}»: tải biểu mẫu từ baocao rồi điền vào"),
        )])
    })?;
    let mut meta = HashMap::new();
    for row in info.rows() {
        if let (Some(k), Some(v)) = (row.first().and_then(text_of), row.get(1).and_then(text_of)) {
            meta.insert(k, v);
        }
    }
    let mut field = |key: &str| {
        meta.get(key).cloned().unwrap_or_else(|| {
            errors.push(problem(Some(INFO_SHEET), None, format!("thiếu dòng «{key}»")));
            String::new()
        })
    };
    let (regime, unit, period) = (field("regime"), field("unit"), field("period"));

    let sheet = workbook
        .sheet(FORM_SHEET)?
        .ok_or_else(|| Problems(vec![problem(None, None, format!("không có trang tính «{FORM_SHEET}»"))]))?;
    let (first_row, first_col) = sheet.start().unwrap_or((0, 0));
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let header = rows.iter().position(|r| r.iter().any(|c| text_of(c).as_deref() == Some(CODE_HEADING)));
    let Some(header) = header else {
        errors.push(problem(Some(FORM_SHEET), None, format!("không có dòng tiêu đề chứa «{CODE_HEADING}»")));
        return Err(Problems(errors));
    };
    let find = |heading: &str| rows[header].iter().position(|c| text_of(c).as_deref() == Some(heading));
    let code_col = find(CODE_HEADING).expect("found above");
    let entered: Vec<(Column, usize)> =
        [Column::ThisPeriod, Column::YearPlan].into_iter().filter_map(|c| find(c.heading()).map(|i| (c, i))).collect();
    let mut values = BTreeMap::new();
    let mut plan = BTreeMap::new();
    for (i, row) in rows.iter().enumerate().skip(header + 1) {
        let Some(code) = row.get(code_col).and_then(text_of) else { continue };
        let Some(indicator) = indicators.get(&code) else {
            let at = cell_name(first_row + i as u32, first_col + code_col as u32);
            errors.push(problem(Some(FORM_SHEET), Some(at), format!("không có chỉ tiêu «{code}»")));
            continue;
        };
        for (column, col) in &entered {
            let Some(text) = row.get(*col).and_then(text_of) else { continue };
            let at = cell_name(first_row + i as u32, first_col + *col as u32);
            if indicator.aggregation.formula().is_some() {
                continue;
            }
            let normalized = match row.get(*col) {
                Some(Data::String(_)) => parse_vn_number(&text),
                _ => text.clone(),
            };
            match indicator.value_type.parse(&normalized) {
                Ok(_) => {
                    let target = if *column == Column::ThisPeriod { &mut values } else { &mut plan };
                    target.insert(code.clone(), normalized);
                }
                Err(e) => errors.push(problem(
                    Some(FORM_SHEET),
                    Some(at),
                    format!("{} ({code}), cột «{}»: {e}", indicator.name, column.heading()),
                )),
            }
        }
    }
    if errors.is_empty() { Ok(Upload { regime, unit, period, values, plan }) } else { Err(Problems(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_names_are_spreadsheet_names() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(9, 4), "E10");
        assert_eq!(cell_name(0, 26), "AA1");
    }
}

#[cfg(test)]
mod round_trip {
    use std::collections::BTreeMap;

    use baocao_core::report::{ReportRow, ReportView};
    use baocao_core::workflow::Status;
    use baocao_core::{Aggregation, Indicator, ValueType};

    use super::*;

    fn indicators() -> HashMap<String, Indicator> {
        let make = |code: &str, value_type| Indicator {
            code: code.into(),
            name: format!("Chỉ tiêu {code}"),
            unit: "hồ sơ".into(),
            value_type,
            aggregation: Aggregation::Sum,
            group: None,
        };
        [make("A", ValueType::Integer), make("B", ValueType::Decimal)]
            .into_iter()
            .map(|i| (i.code.clone(), i))
            .collect()
    }

    fn view(a: f64) -> ReportView {
        let row = |code: &str, cells: BTreeMap<String, f64>| ReportRow {
            stt: "1".into(),
            label: format!("Chỉ tiêu {code}"),
            indicator: Some(code.into()),
            unit_of_measure: Some("hồ sơ".into()),
            heading: false,
            computed: false,
            indent: 1,
            cells,
            this_period_estimated: false,
            same_period_estimated: false,
            year_to_date_estimated: false,
            pulled_from: None,
            same_period_pulled: false,
            year_to_date_pulled: false,
        };
        ReportView {
            regime: "R".into(),
            form: "F".into(),
            form_name: "Biểu thử".into(),
            unit: "23317".into(),
            unit_name: "Xã Ngọk Bay".into(),
            period: "202508".parse().unwrap(),
            period_label: "Tháng 8/2025".into(),
            status: Status::Draft,
            deadline: "2025-08-19".parse().unwrap(),
            submitted_at: None,
            approved_at: None,
            returned_reason: None,
            signature: None,
            columns: vec![Column::YearPlan, Column::ThisPeriod, Column::Cumulative],
            rows: vec![
                row(
                    "A",
                    BTreeMap::from([
                        ("this_period".into(), a),
                        ("year_plan".into(), 1200.0),
                        ("cumulative".into(), 999.0),
                    ]),
                ),
                row("B", BTreeMap::new()),
            ],
            findings: vec![],
            levels: Vec::new(),
            approvals: 0,
            revisions: vec![],
        }
    }

    #[test]
    fn a_template_reads_back_its_entered_columns_only() {
        let bytes = write_report(&view(42.0), false).unwrap();
        let upload = read_report("t.xlsx", &bytes, &indicators()).unwrap();
        assert_eq!((upload.regime.as_str(), upload.unit.as_str(), upload.period.as_str()), ("R", "23317", "202508"));
        assert_eq!(upload.values, BTreeMap::from([("A".to_string(), "42".to_string())]));
        assert_eq!(upload.plan, BTreeMap::from([("A".to_string(), "1200".to_string())]));
    }

    /// The notes of a report's workbook (none when it has none).
    fn notes_of(view: &ReportView) -> Option<String> {
        let bytes = write_report(view, false).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let mut notes = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("xl/comments1.xml").ok()?, &mut notes).unwrap();
        Some(notes)
    }

    #[test]
    fn a_pulled_figure_is_named_with_its_system_in_the_workbook() {
        let mut pulled = view(42.0);
        pulled.rows[0].pulled_from = Some("Hệ thống TTHC".into());
        let notes = notes_of(&pulled).unwrap();
        assert!(notes.contains("Lấy tự động từ Hệ thống TTHC"), "{notes}");
        assert_eq!(notes_of(&view(42.0)), None);
    }

    #[test]
    fn an_estimated_year_to_date_says_so_in_its_cells_note() {
        let mut estimated = view(42.0);
        estimated.rows[0].year_to_date_estimated = true;
        let notes = notes_of(&estimated).unwrap();
        assert_eq!(notes.matches("Có phần ước tính").count(), 1, "the year so far's cell alone: {notes}");
    }

    #[test]
    fn a_year_to_date_made_partly_of_pulled_numbers_says_so_in_its_cells_note() {
        let mut pulled = view(42.0);
        pulled.rows[0].year_to_date_pulled = true;
        let notes = notes_of(&pulled).unwrap();
        assert_eq!(notes.matches("Có phần lấy tự động").count(), 1, "the year so far's cell alone: {notes}");
        assert!(!notes.contains("Lấy tự động từ"), "this period was entered: {notes}");
    }

    #[test]
    fn bad_cells_are_named_by_sheet_and_cell() {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet().set_name(FORM_SHEET).unwrap();
        for (i, h) in ["STT", "Chỉ tiêu", CODE_HEADING, "Đơn vị tính", "Thực hiện kỳ này"].iter().enumerate()
        {
            sheet.write_string(HEADER_ROW, i as u16, *h).unwrap();
        }
        sheet.write_string(9, 2, "A").unwrap();
        sheet.write_number(9, 4, 4.5).unwrap();
        sheet.write_string(10, 2, "B").unwrap();
        sheet.write_string(10, 4, "1.234,5").unwrap();
        sheet.write_string(11, 2, "ZZ").unwrap();
        let info = workbook.add_worksheet().set_name(INFO_SHEET).unwrap();
        info.write_string(0, 0, "regime").unwrap();
        info.write_string(0, 1, "R").unwrap();
        let bytes = workbook.save_to_buffer().unwrap();
        let problems = read_report("t.xlsx", &bytes, &indicators()).unwrap_err().0;
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let has = |s: &str| text.iter().any(|t| t.contains(s));
        assert!(
            has(
                "t.xlsx, trang tính «Biểu mẫu», ô E10: Chỉ tiêu A (A), cột «Thực hiện kỳ này»: «4.5» không hợp lệ: cần một số nguyên (ví dụ 12 hoặc -3)"
            ),
            "{text:#?}"
        );
        assert!(has("ô C12: không có chỉ tiêu «ZZ»"), "{text:#?}");
        assert!(has("trang tính «Thông tin»: thiếu dòng «unit»"), "{text:#?}");
        // 1.234,5 typed as text the Vietnamese way is read as 1234.5: no problem for B.
        assert!(!has("(B)"), "{text:#?}");
        let garbage = read_report("x.xlsx", b"not a workbook", &indicators()).unwrap_err();
        assert!(garbage.to_string().contains("not an XLSX workbook"));
    }

    #[test]
    fn a_table_is_written_as_the_page_shows_it_numbers_kept_numbers() {
        use baocao_core::table::TableRow;
        use calamine::{Reader, Xlsx};
        let table = Table {
            title: "So sánh theo kỳ".into(),
            lines: vec!["Đơn vị: Xã A (mã 1)".into()],
            headings: vec!["Tháng".into(), "Giá trị".into()],
            rows: vec![
                TableRow { cells: vec![Cell::text("01/2025"), Cell::figure(Some(1234.5), "*")], ..Default::default() },
                TableRow { cells: vec![Cell::text("02/2025"), Cell::figure(None, "")], ..Default::default() },
            ],
            notes: vec!["* có phần ước tính".into()],
            file_name: "so-sanh".into(),
        };
        let bytes = write_table(&table, true).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range(FORM_SHEET).unwrap();
        let text = |r: u32, c: u32| sheet.get_value((r, c)).map(|d| d.to_string()).unwrap_or_default();
        assert_eq!(text(2, 0), DEMO_MARK);
        assert_eq!(text(3, 0), "SO SÁNH THEO KỲ");
        assert_eq!(text(4, 0), "Đơn vị: Xã A (mã 1)");
        assert_eq!(text(6, 1), "Giá trị");
        assert_eq!(sheet.get_value((7, 1)), Some(&Data::Float(1234.5)), "a figure stays a number");
        assert_eq!(text(8, 1), "");
        assert_eq!(text(10, 0), "* có phần ước tính");
    }

    #[test]
    fn tables_go_on_sheets_of_their_own_named_as_spreadsheets_accept() {
        use calamine::{Reader, Xlsx};
        let table = |title: &str| Table { title: title.into(), headings: vec!["Tháng".into()], ..Default::default() };
        // The second as a view that cannot be shown: no column at all.
        let (first, second) = (table("Hồ sơ"), Table { headings: Vec::new(), ..table("Chất lượng") });
        // One name twice, too long, with what a sheet's name may not hold.
        let name = "'Hồ sơ [tỉnh]: tiếp nhận/giải quyết theo tháng'";
        let bytes = write_tables(&[(name, &first), (name, &second)], false).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let names = book.sheet_names();
        assert_eq!(names, ["1. Hồ sơ  tỉnh   tiếp nhận giải", "2. Hồ sơ  tỉnh   tiếp nhận giải"]);
        for (sheet, title) in names.iter().zip(["HỒ SƠ", "CHẤT LƯỢNG"]) {
            let range = book.worksheet_range(sheet).unwrap();
            assert_eq!(range.get_value((3, 0)).map(|d| d.to_string()), Some(title.to_string()));
        }
    }

    #[test]
    fn an_output_form_marks_its_estimated_and_pulled_figures_as_the_page_does() {
        use baocao_core::report::{ConsolidatedRow, ESTIMATED_NOTE};
        use calamine::{Reader, Xlsx};
        let row = |label: &str, value: f64, estimated: bool, pulled: bool| ConsolidatedRow {
            stt: "1".into(),
            label: label.into(),
            code: Some("A".into()),
            unit_of_measure: Some("hồ sơ".into()),
            heading: false,
            indent: 0,
            cells: vec![Some(value)],
            estimated,
            pulled,
            traced: Vec::new(),
        };
        let view = Consolidated {
            form: "TH01".into(),
            form_name: "Tổng hợp".into(),
            regime: "BC".into(),
            unit: "51".into(),
            unit_name: "Tỉnh Quảng Ngãi".into(),
            period: "202506".parse().unwrap(),
            period_label: "Tháng 6/2025".into(),
            layout: Layout::Total,
            include_submitted: false,
            counted: 2,
            expected: 2,
            headings: vec!["Thực hiện".into()],
            rows: vec![
                row("Đã biết", 10.0, false, false),
                row("Chia theo tỷ lệ", 7.5, true, false),
                row("Lấy tự động", 4.0, false, true),
            ],
        };
        let bytes = write_consolidated(&view, false).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range(FORM_SHEET).unwrap();
        let cells: Vec<String> = sheet.rows().flatten().map(|d| d.to_string()).collect();
        assert!(cells.iter().any(|c| c == ESTIMATED_NOTE), "{cells:?}");
        assert!(cells.iter().any(|c| c == "7.5"), "the estimated figure stays a number: {cells:?}");
        assert!(cells.iter().any(|c| c == baocao_core::report::PULLED_NOTE), "{cells:?}");
        assert!(cells.iter().any(|c| c == "4"), "the pulled figure stays a number: {cells:?}");
    }
}
