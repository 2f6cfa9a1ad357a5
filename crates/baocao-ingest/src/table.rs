//! A header-checked CSV reader that remembers where each value came from.

use crate::error::{IngestError, Location};

/// One data row with access to its fields by column name.
pub struct Row<'a> {
    table: &'a Table,
    line: u64,
    record: &'a csv::StringRecord,
}

/// A CSV file read whole, its header checked against the columns required.
pub struct Table {
    pub file: String,
    columns: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    /// Reads `text` as CSV with a header row. Problems go to `errors`; the
    /// table holds the rows that could be read.
    pub fn read(file: &str, text: &str, required: &[&str], errors: &mut Vec<IngestError>) -> Table {
        Self::read_aliased(file, text, required, &[], errors)
    }

    /// [`Table::read`] for files whose header may name a column another
    /// way: `aliases` maps headers, compared without case or diacritics
    /// (`Họ và tên`, `HO VA TEN`), to the column names used in the code.
    pub fn read_aliased(
        file: &str,
        text: &str,
        required: &[&str],
        aliases: &[(&str, &str)],
        errors: &mut Vec<IngestError>,
    ) -> Table {
        let mut table = Table { file: file.to_string(), columns: Vec::new(), rows: Vec::new() };
        let line_of = LineIndex::new(text);
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
        match reader.headers() {
            Ok(h) => {
                table.columns = h
                    .iter()
                    .map(|c| {
                        let c = c.trim().trim_start_matches('\u{feff}');
                        let folded = baocao_core::text::fold(c);
                        let alias = aliases.iter().find(|(a, _)| baocao_core::text::fold(a) == folded);
                        alias.map_or_else(|| c.to_string(), |(_, canonical)| canonical.to_string())
                    })
                    .collect()
            }
            Err(e) => {
                errors.push(table.problem(Some(1), None, format!("không đọc được dòng tiêu đề: {e}")));
                return table;
            }
        }
        for col in required {
            if !table.columns.iter().any(|c| c == col) {
                let found = table.columns.join(",");
                errors.push(table.problem(Some(1), Some(col), format!("thiếu cột (dòng tiêu đề là «{found}»)")));
            }
        }
        for result in reader.records() {
            match result {
                Ok(record) => {
                    let line = record.position().map_or(0, |p| line_of.line(p.byte()));
                    for (i, field) in record.iter().enumerate() {
                        if let Err(e) = baocao_core::text::check_text(field, true) {
                            let column = table.columns.get(i).cloned().unwrap_or_else(|| (i + 1).to_string());
                            errors.push(table.problem(Some(line), Some(&column), e));
                        }
                    }
                    table.rows.push((line, record));
                }
                Err(e) => {
                    let line = e.position().map(|p| line_of.line(p.byte()));
                    let message = match e.kind() {
                        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                            format!("cần {expected_len} trường, có {len}")
                        }
                        csv::ErrorKind::Utf8 { .. } => "không phải văn bản UTF-8".to_string(),
                        _ => e.to_string(),
                    };
                    errors.push(table.problem(line, None, message));
                }
            }
        }
        table
    }

    fn problem(&self, line: Option<u64>, column: Option<&str>, message: String) -> IngestError {
        IngestError {
            location: Location { file: self.file.clone(), line, column: column.map(Into::into), ..Default::default() },
            message,
        }
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, record)| Row { table: self, line: *line, record })
    }
}

/// Line numbers from byte offsets. The csv crate's own line count lags by
/// one in files with CRLF endings (as the national lists have), because a
/// record's position is taken before the pending LF is consumed.
struct LineIndex<'a> {
    text: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let text = text.as_bytes();
        LineIndex { text, newlines: text.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect() }
    }

    /// The 1-based line on which the record starting at `byte` begins.
    fn line(&self, byte: u64) -> u64 {
        let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        while at < self.text.len() && matches!(self.text[at], b'\r' | b'\n') {
            at += 1;
        }
        self.newlines.partition_point(|&n| n < at) as u64 + 1
    }
}

impl<'a> Row<'a> {
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The trimmed value of a column; empty when the column is absent.
    pub fn get(&self, column: &str) -> &'a str {
        self.table.columns.iter().position(|c| c == column).and_then(|i| self.record.get(i)).map_or("", str::trim)
    }

    pub fn problem(&self, column: &str, message: impl Into<String>) -> IngestError {
        self.table.problem(Some(self.line), Some(column), message.into())
    }

    /// A value that must be present.
    pub fn required(&self, column: &str, errors: &mut Vec<IngestError>) -> Option<String> {
        self.present(column, errors).map(str::to_string)
    }

    fn present(&self, column: &str, errors: &mut Vec<IngestError>) -> Option<&'a str> {
        let value = self.get(column);
        if value.is_empty() {
            errors.push(self.problem(column, "đang trống; cần có giá trị"));
            None
        } else {
            Some(value)
        }
    }

    /// A value parsed with `parse`, whose error says what was expected.
    pub fn parsed<T>(
        &self,
        column: &str,
        errors: &mut Vec<IngestError>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.present(column, errors)?;
        parse(value).map_err(|m| errors.push(self.problem(column, m))).ok()
    }

    /// Like [`Row::parsed`] for a column that may be left empty (or be
    /// missing): `parse` sees the trimmed text, empty included.
    pub fn parsed_optional<T>(
        &self,
        column: &str,
        errors: &mut Vec<IngestError>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        parse(self.get(column).trim()).map_err(|m| errors.push(self.problem(column, m))).ok()
    }
}

/// The first sheet of a workbook as CSV text, for the same checked readers
/// as files sent as CSV; with the label problems should name ("FILE, sheet
/// «NAME»"). Rows keep the spreadsheet's numbers.
pub fn first_sheet_as_csv(file: &str, bytes: &[u8]) -> Result<(String, String), crate::Problems> {
    use calamine::Data;
    let unreadable = |message: String| {
        crate::Problems(vec![IngestError { location: Location { file: file.into(), ..Default::default() }, message }])
    };
    let (sheet, range) = crate::workbook::Workbook::open(file, bytes)?.first_sheet()?;
    // A sheet that does not start at A1 would shift row numbers, so blank
    // rows keep them.
    let mut writer = csv::Writer::from_writer(Vec::new());
    let (first_row, _) = range.start().unwrap_or((0, 0));
    for _ in 0..first_row {
        writer.write_record([""]).map_err(|e| unreadable(e.to_string()))?;
    }
    for row in range.rows() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Data::Empty => String::new(),
                Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                // Dates typed as dates come back as dd/mm/yyyy, as people write them.
                Data::DateTime(d) => excel_day(d.as_f64()).map_or_else(|| c.to_string(), baocao_core::date::format_vn),
                other => other.to_string(),
            })
            .collect();
        writer.write_record(&cells).map_err(|e| unreadable(e.to_string()))?;
    }
    let text = String::from_utf8(writer.into_inner().map_err(|e| unreadable(e.to_string()))?)
        .map_err(|e| unreadable(e.to_string()))?;
    Ok((format!("{file}, trang tính «{sheet}»"), text))
}

/// The day of an Excel date serial (days since 30/12/1899, the 1900 system).
fn excel_day(serial: f64) -> Option<chrono::NaiveDate> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    epoch.checked_add_days(chrono::Days::new(u64::try_from(serial.floor() as i64).ok()?))
}
