//! A table of totals, completeness or comparison printed as the official
//! statistical table (biểu) a unit signs: letterhead and national motto as
//! Decree 30/2020 lays them out, the title and what the table is about, the
//! table as its page shows it, its notes, and the signatures of the one who
//! made it and of the head of the unit.

use askama::Template;
use baocao_core::table::Table;
use baocao_core::today_in_vietnam;
use baocao_ingest::xlsx::DEMO_MARK;
use chrono::Datelike;

use crate::DocumentError;

struct Row {
    heading: bool,
    indent: u8,
    /// Each cell as shown, and whether it is a number (aligned right).
    cells: Vec<(String, bool)>,
}

/// The top of every printed table (`printed_table.html`): who issues it,
/// where, dated today in Vietnam, and the demo's mark.
struct Head<'a> {
    agency: &'a str,
    place: &'a str,
    day: String,
    month: String,
    year: String,
    mark: Option<&'static str>,
}

impl<'a> Head<'a> {
    fn new(letterhead: &'a Letterhead, demo: bool) -> Self {
        let today = today_in_vietnam();
        Head {
            agency: &letterhead.agency,
            place: &letterhead.place,
            day: format!("{:02}", today.day()),
            month: format!("{:02}", today.month()),
            year: today.year().to_string(),
            mark: demo.then_some(DEMO_MARK),
        }
    }
}

#[derive(Template)]
#[template(path = "table.html")]
struct PrintedTable<'a> {
    head: Head<'a>,
    table: &'a Table,
    rows: Vec<Row>,
}

/// Who issues a printed table: the agency's lines (the last one bold, as
/// the letterhead writes its own name) and the place it is dated at.
pub struct Letterhead {
    pub agency: String,
    pub place: String,
}

impl Letterhead {
    /// The people's committee of a unit, as its letterhead names it:
    /// «ỦY BAN NHÂN DÂN / TỈNH QUẢNG NGÃI», dated at «Quảng Ngãi».
    pub fn committee_of(unit_name: &str) -> Letterhead {
        // The place is the name without its kind, of one word or two.
        let place = ["Thành phố ", "Đặc khu ", "Tỉnh ", "Phường ", "Xã "]
            .iter()
            .find_map(|kind| unit_name.strip_prefix(kind))
            .unwrap_or(unit_name);
        Letterhead { agency: format!("ỦY BAN NHÂN DÂN\n{}", unit_name.to_uppercase()), place: place.to_string() }
    }
}

/// One of several tables printed as one document, under its name.
struct Part<'a> {
    name: &'a str,
    table: &'a Table,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "tables.html")]
struct PrintedTables<'a> {
    head: Head<'a>,
    title: &'a str,
    parts: Vec<Part<'a>>,
}

/// Each row of `table` as printed.
fn rows_of(table: &Table) -> Vec<Row> {
    table
        .rows
        .iter()
        .map(|r| Row {
            heading: r.heading,
            indent: r.indent,
            cells: r.cells.iter().map(|c| (c.shown(), c.is_number())).collect(),
        })
        .collect()
}

/// The table as an HTML page linking the documents' stylesheet, dated
/// today in Vietnam; `demo` marks it as made from the demo's data.
pub fn render(table: &Table, letterhead: &Letterhead, demo: bool) -> Result<String, DocumentError> {
    let page = PrintedTable { head: Head::new(letterhead, demo), table, rows: rows_of(table) };
    Ok(page.render()?)
}

/// Several tables (a dashboard's views) as one document titled `title`:
/// the letterhead once, each table in turn under its number and name with
/// what it is about, the signatures once at the end.
pub fn render_all(
    title: &str,
    tables: &[(&str, &Table)],
    letterhead: &Letterhead,
    demo: bool,
) -> Result<String, DocumentError> {
    let parts = tables.iter().map(|(name, table)| Part { name, table, rows: rows_of(table) }).collect();
    let page = PrintedTables { head: Head::new(letterhead, demo), title, parts };
    Ok(page.render()?)
}

#[cfg(test)]
mod tests {
    use baocao_core::table::{Cell, TableRow};

    use super::*;

    #[test]
    fn a_table_prints_in_the_official_layout() {
        let table = Table {
            title: "Tiến độ gửi báo cáo".into(),
            lines: vec!["Tháng 11/2025".into()],
            headings: vec!["Mã".into(), "Đơn vị".into(), "Giá trị".into()],
            rows: vec![TableRow {
                cells: vec![Cell::text("25450"), Cell::text("Xã <Ngọk> Bay"), Cell::figure(Some(1234.5), "*")],
                ..Default::default()
            }],
            notes: vec!["* có phần ước tính".into()],
            file_name: "x".into(),
        };
        let head = Letterhead::committee_of("Tỉnh Quảng Ngãi");
        assert_eq!(head.place, "Quảng Ngãi");
        let html = render(&table, &head, true).unwrap();
        assert!(html.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
        assert!(html.contains("<strong>TỈNH QUẢNG NGÃI</strong>"), "{html}");
        assert!(html.contains("Quảng Ngãi, ngày "));
        assert!(html.contains("TIẾN ĐỘ GỬI BÁO CÁO"));
        assert!(html.contains(r#"<td class="num">1.234,5 *</td>"#), "{html}");
        assert!(html.contains("Xã &#60;Ngọk&#62; Bay") || html.contains("Xã &lt;Ngọk&gt; Bay"), "{html}");
        assert!(html.contains("THỦ TRƯỞNG ĐƠN VỊ"));
        assert!(html.contains(DEMO_MARK));
        assert_eq!(Letterhead::committee_of("Thành phố Hà Nội").place, "Hà Nội");
        assert_eq!(Letterhead::committee_of("Đặc khu Lý Sơn").place, "Lý Sơn");
    }

    #[test]
    fn several_tables_print_as_one_document_each_under_its_name() {
        let table = |title: &str, value: f64| Table {
            title: title.into(),
            lines: vec!["Tháng 11/2025".into()],
            headings: vec!["Mã".into(), "Giá trị".into()],
            rows: vec![TableRow {
                cells: vec![Cell::text("25450"), Cell::figure(Some(value), "")],
                ..Default::default()
            }],
            notes: vec![format!("ghi chú của {title}")],
            file_name: "x".into(),
        };
        let (first, second) = (table("Hồ sơ", 731.0), table("Tỷ lệ", 1234.5));
        // A view that cannot be shown: no column, a line saying why.
        let failed =
            Table {
                title: "Mục lỗi".into(), lines: vec!["Không có chỉ tiêu «X».".into()], ..Default::default()
            };
        let head = Letterhead::committee_of("Tỉnh Quảng Ngãi");
        let parts = [("Theo xã", &first), ("Tỷ lệ toàn trình", &second), ("Đã xóa", &failed)];
        let html = render_all("Bảng điều hành của tỉnh", &parts, &head, false).unwrap();
        assert_eq!(html.matches("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").count(), 1, "one letterhead");
        assert_eq!(html.matches("THỦ TRƯỞNG ĐƠN VỊ").count(), 1, "signed once");
        assert!(html.contains("BẢNG ĐIỀU HÀNH CỦA TỈNH"), "{html}");
        let at = |text: &str| html.find(text).unwrap_or_else(|| panic!("{text}: {html}"));
        assert!(at("1. Theo xã") < at("731") && at("731") < at("2. Tỷ lệ toàn trình"), "{html}");
        assert!(at("2. Tỷ lệ toàn trình") < at("1.234,5") && at("1.234,5") < at("3. Đã xóa"), "{html}");
        assert!(at("ghi chú của Hồ sơ") < at("2. Tỷ lệ toàn trình"), "each table's notes under it");
        assert!(at("3. Đã xóa") < at("Không có chỉ tiêu") && html.contains(r#"<td colspan="1">Không có số liệu."#));
        assert!(at("Không có số liệu.") < at("NGƯỜI LẬP BIỂU"), "{html}");
    }
}
