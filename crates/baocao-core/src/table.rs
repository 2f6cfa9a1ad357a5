//! A table as people read it (totals, completeness, comparisons): what a
//! page shows, so that its workbook and its printed form say the same. The
//! server builds one from a page; ingest writes it as a workbook, documents
//! print it in the official layout.

use crate::text::format_number;

/// One cell: text, or a number kept as a number (a workbook sums it) with
/// the marks the page puts after it (`*` estimated, `†` partial).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number { value: Option<f64>, decimals: usize, marks: &'static str },
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A figure shown with as many decimals as it has (none or one), as the
    /// pages show totals.
    pub fn figure(value: Option<f64>, marks: &'static str) -> Cell {
        let decimals = value.map_or(0, crate::text::figure_decimals);
        Cell::Number { value, decimals, marks }
    }

    /// The cell as a reader sees it: `1.234,5 *`; an empty value is blank
    /// and carries no mark.
    pub fn shown(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number { value: None, .. } => String::new(),
            Cell::Number { value: Some(v), decimals, marks: "" } => format_number(*v, *decimals),
            Cell::Number { value: Some(v), decimals, marks } => format!("{} {marks}", format_number(*v, *decimals)),
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Number { .. })
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct TableRow {
    /// A heading row (a group of indicators), shown bold.
    pub heading: bool,
    /// Depth under its heading, shown as an indent of the label.
    pub indent: u8,
    pub cells: Vec<Cell>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Table {
    pub title: String,
    /// What the table is about, one line each (area, period, structure day).
    pub lines: Vec<String>,
    pub headings: Vec<String>,
    pub rows: Vec<TableRow>,
    /// What a reader must know to read it right: the counting rule, what
    /// the marks mean, what was withheld.
    pub notes: Vec<String>,
    /// A short name for the file (ASCII letters, digits, `-`, `_`, `.`).
    pub file_name: String,
}

/// `name` kept to the characters a file name and a `Content-Disposition`
/// header take everywhere: a unit or regime code typed in a query cannot
/// break out of the header.
pub fn file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .take(100)
        .collect();
    if safe.is_empty() { "bang".into() } else { safe }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_the_vietnamese_way_with_their_marks() {
        assert_eq!(Cell::figure(Some(1234.5), "*").shown(), "1.234,5 *");
        assert_eq!(Cell::figure(Some(1234.0), "").shown(), "1.234");
        assert_eq!(Cell::figure(None, "*").shown(), "", "a blank carries no mark");
        assert_eq!(Cell::text("Đúng hạn").shown(), "Đúng hạn");
    }

    #[test]
    fn file_names_cannot_break_out_of_a_header() {
        assert_eq!(file_name("tien-do BC\"\r\nSet-Cookie: x"), "tien-do-BC---Set-Cookie--x");
        assert_eq!(file_name("so-sanh_31.2025"), "so-sanh_31.2025");
        assert_eq!(file_name(""), "bang");
        assert_eq!(file_name(&"x".repeat(500)).len(), 100);
    }
}
