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

#[derive(Template)]
#[template(path = "table.html")]
struct PrintedTable<'a> {
    table: &'a Table,
    agency: &'a str,
    place: &'a str,
    day: String,
    month: String,
    year: String,
    rows: Vec<Row>,
    mark: Option<&'static str>,
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

/// The table as an HTML page linking the documents' stylesheet, dated
/// today in Vietnam; `demo` marks it as made from the demo's data.
pub fn render(table: &Table, letterhead: &Letterhead, demo: bool) -> Result<String, DocumentError> {
    let today = today_in_vietnam();
    let rows = table
        .rows
        .iter()
        .map(|r| Row {
            heading: r.heading,
            indent: r.indent,
            cells: r.cells.iter().map(|c| (c.shown(), c.is_number())).collect(),
        })
        .collect();
    let page = PrintedTable {
        table,
        agency: &letterhead.agency,
        place: &letterhead.place,
        day: format!("{:02}", today.day()),
        month: format!("{:02}", today.month()),
        year: today.year().to_string(),
        rows,
        mark: demo.then_some(DEMO_MARK),
    };
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
}
