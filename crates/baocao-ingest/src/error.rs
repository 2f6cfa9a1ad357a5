//! Problems found in input files.

use std::fmt;

/// Where in a file a problem is: line numbers count the header as line 1,
/// as a spreadsheet or a text editor shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    pub file: String,
    /// A sheet of a workbook.
    pub sheet: Option<String>,
    /// A cell of that sheet, as spreadsheets name it (E10).
    pub cell: Option<String>,
    pub line: Option<u64>,
    pub column: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ", trang tính «{sheet}»")?;
        }
        if let Some(cell) = &self.cell {
            write!(f, ", ô {cell}")?;
        }
        if let Some(line) = self.line {
            write!(f, ", dòng {line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", cột `{column}`")?;
        }
        Ok(())
    }
}

/// One problem in one place.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct IngestError {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every problem found in a set of files; nothing was taken from them.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct Problems(pub Vec<IngestError>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "{n} lỗi, chưa nạp gì:")?;
        for (i, p) in self.0.iter().enumerate() {
            if i == 50 {
                return writeln!(f, "  … và {} lỗi khác", n - 50);
            }
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// How a refusal for size (a workbook past its limits) begins: such a
/// file is answered 413, not as a file with mistakes in it.
pub const OVER_LIMIT: &str = "Quá giới hạn: ";

impl Problems {
    /// True when the file was refused for its size, not its content.
    pub fn over_limit(&self) -> bool {
        self.0.iter().any(|p| p.message.starts_with(OVER_LIMIT))
    }

    /// `value` when nothing was found wrong, else every problem, in order of place.
    pub fn or<T>(mut errors: Vec<IngestError>, value: T) -> Result<T, Problems> {
        if errors.is_empty() {
            Ok(value)
        } else {
            errors.sort();
            Err(Problems(errors))
        }
    }
}
