//! A report printed as a PDF in the layout of Decree 30/2020 (A4; margins
//! 20 mm top and bottom, 30 mm left, 15 mm right; Times New Roman's
//! metrics, 13 pt; issuing agency on the left and national motto on the
//! right; place and date in italics; title; the figures; recipients and
//! signature; page numbers from the second page): the file an approved
//! report is signed in (`baocao-signing`'s PAdES).
//!
//! The text is the printed page's ([`crate::report::printed`]), so the PDF
//! and the page say the same. The font is Liberation Serif (metric
//! compatible with Times New Roman, with every Vietnamese letter; SIL Open
//! Font License, `fonts/OFL.txt`), embedded in the binary and subset into
//! the file by krilla.

use baocao_core::report::ReportView;
use krilla::Document;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::DocumentError;
use crate::report::{PrintedReport, printed};

const REGULAR: &[u8] = include_bytes!("../fonts/LiberationSerif-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/LiberationSerif-Bold.ttf");
const ITALIC: &[u8] = include_bytes!("../fonts/LiberationSerif-Italic.ttf");

const MM: f32 = 72.0 / 25.4;
const PAGE_WIDTH: f32 = 210.0 * MM;
const PAGE_HEIGHT: f32 = 297.0 * MM;
const LEFT: f32 = 30.0 * MM;
const RIGHT: f32 = PAGE_WIDTH - 15.0 * MM;
const TOP: f32 = 20.0 * MM;
const BOTTOM: f32 = PAGE_HEIGHT - 20.0 * MM;
const WIDTH: f32 = RIGHT - LEFT;

/// Body text, table text.
const BODY: f32 = 13.0;
const SMALL: f32 = 11.0;
/// Inner margin of a table cell.
const PAD: f32 = 3.0;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
    Italic,
}

/// A face as krilla draws it and as skrifa measures it.
struct Typeface {
    draw: Font,
    measure: FontRef<'static>,
}

struct Faces {
    regular: Typeface,
    bold: Typeface,
    italic: Typeface,
}

impl Faces {
    fn load() -> Result<Faces, DocumentError> {
        let face = |bytes: &'static [u8]| {
            let missing = || DocumentError::Pdf("phông chữ nhúng không đọc được".into());
            Ok::<_, DocumentError>(Typeface {
                draw: Font::new(bytes.into(), 0).ok_or_else(missing)?,
                measure: FontRef::new(bytes).map_err(|_| missing())?,
            })
        };
        Ok(Faces { regular: face(REGULAR)?, bold: face(BOLD)?, italic: face(ITALIC)? })
    }

    fn get(&self, face: Face) -> &Typeface {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Italic => &self.italic,
        }
    }

    /// The width of `text` set in `face` at `size` points.
    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        let font = &self.get(face).measure;
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        let charmap = font.charmap();
        text.chars().map(|c| charmap.map(c).and_then(|g| metrics.advance_width(g)).unwrap_or(size / 2.0)).sum()
    }

    /// `text` broken into lines no wider than `width`: at spaces, and
    /// inside a word only when the word alone is wider.
    fn wrap(&self, face: Face, size: f32, text: &str, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
                if self.width(face, size, &candidate) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in word.chars() {
                    line.push(c);
                    if self.width(face, size, &line) > width && line.chars().count() > 1 {
                        let last = line.pop().expect("two characters at least");
                        lines.push(std::mem::replace(&mut line, last.to_string()));
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// Where text goes across its box.
#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
    Right,
}

/// The document being written, page by page.
struct Writer<'a> {
    faces: &'a Faces,
    document: Document,
    /// The page being drawn: its content, drawn when the page ends.
    page: Vec<Mark>,
    pages: usize,
    /// Where the next line goes down the page.
    y: f32,
}

/// One thing drawn on a page.
enum Mark {
    Text { x: f32, y: f32, face: Face, size: f32, text: String },
    Line { from: (f32, f32), to: (f32, f32) },
}

impl<'a> Writer<'a> {
    fn new(faces: &'a Faces) -> Writer<'a> {
        let mut writer = Writer { faces, document: Document::new(), page: Vec::new(), pages: 0, y: TOP };
        writer.start_page();
        writer
    }

    fn start_page(&mut self) {
        self.pages += 1;
        self.y = TOP;
        // Decree 30: pages are numbered from the second, at the top, centred.
        if self.pages > 1 {
            self.text_in(LEFT, WIDTH, Face::Regular, BODY, &self.pages.to_string(), Align::Center);
            self.y += BODY * 1.6;
        }
    }

    fn end_page(&mut self) {
        let mut page = self
            .document
            .start_page_with(PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a valid page size"));
        let mut surface = page.surface();
        for mark in self.page.drain(..) {
            draw(&mut surface, self.faces, mark);
        }
        surface.finish();
        page.finish();
    }

    /// Breaks the page when `height` does not fit below the current line.
    fn room_for(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.end_page();
            self.start_page();
        }
    }

    /// One line of text in the box from `x`, `width` wide, on the
    /// current line's baseline.
    fn text_in(&mut self, x: f32, width: f32, face: Face, size: f32, text: &str, align: Align) {
        let used = self.faces.width(face, size, text);
        let x = match align {
            Align::Left => x,
            Align::Center => x + (width - used) / 2.0,
            Align::Right => x + width - used,
        };
        self.page.push(Mark::Text { x, y: self.y + size, face, size, text: text.to_string() });
    }

    /// Lines of text, wrapped in the box, each below the last.
    fn paragraph(&mut self, x: f32, width: f32, face: Face, size: f32, text: &str, align: Align) {
        for line in self.faces.wrap(face, size, text, width) {
            self.room_for(size * 1.3);
            self.text_in(x, width, face, size, &line, align);
            self.y += size * 1.3;
        }
    }

    fn line(&mut self, from: (f32, f32), to: (f32, f32)) {
        self.page.push(Mark::Line { from, to });
    }

    fn finish(mut self, title: String) -> Result<Vec<u8>, DocumentError> {
        self.end_page();
        self.document.set_metadata(
            Metadata::new().title(title).language("vi".into()).creator("baocao".into()).producer("baocao".into()),
        );
        self.document.finish().map_err(|e| DocumentError::Pdf(format!("{e:?}")))
    }
}

fn draw(surface: &mut Surface<'_>, faces: &Faces, mark: Mark) {
    match mark {
        Mark::Text { x, y, face, size, text } => {
            let font = faces.get(face).draw.clone();
            surface.draw_text(Point::from_xy(x, y), font, size, &text, false, TextDirection::Auto);
        }
        Mark::Line { from, to } => {
            let mut path = PathBuilder::new();
            path.move_to(from.0, from.1);
            path.line_to(to.0, to.1);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(krilla::paint::Stroke { width: 0.5, ..Default::default() }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
    }
}

/// The report as a PDF: what an approved report is signed in.
pub fn render(view: ReportView, demo: bool) -> Result<Vec<u8>, DocumentError> {
    let report = printed(view, demo);
    let faces = Faces::load()?;
    let mut writer = Writer::new(&faces);
    heading(&mut writer, &report);
    table(&mut writer, &report);
    closing(&mut writer, &report);
    writer.finish(format!("{} — {} — {}", report.view.form_name, report.view.unit_name, report.view.period_label))
}

/// The agency and number on the left, the motto, place and date on the
/// right, and the title.
fn heading(w: &mut Writer<'_>, report: &PrintedReport) {
    let left = WIDTH * 0.4;
    let (right_x, right) = (LEFT + left, WIDTH - left);
    let top = w.y;
    let lines: Vec<&str> = report.agency.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let face = if i + 1 == lines.len() { Face::Bold } else { Face::Regular };
        w.paragraph(LEFT, left, face, BODY, line, Align::Center);
    }
    let rule = w.y + 2.0;
    w.line((LEFT + left * 0.35, rule), (LEFT + left * 0.65, rule));
    w.y += 6.0;
    // The number is written in by hand when the document is registered.
    w.text_in(LEFT, left, Face::Regular, BODY, "Số:        /BC-UBND", Align::Center);
    w.y += BODY * 1.3;
    let below_left = w.y;

    w.y = top;
    w.paragraph(right_x, right, Face::Bold, 12.0, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Align::Center);
    let motto = "Độc lập - Tự do - Hạnh phúc";
    w.paragraph(right_x, right, Face::Bold, BODY, motto, Align::Center);
    let half = w.faces.width(Face::Bold, BODY, motto) / 2.0;
    let middle = right_x + right / 2.0;
    w.line((middle - half, w.y + 2.0), (middle + half, w.y + 2.0));
    w.y += 8.0;
    let date = format!("{}, ngày {} tháng {} năm {}", report.place, report.day, report.month, report.year);
    w.paragraph(right_x, right, Face::Italic, BODY, &date, Align::Center);

    w.y = w.y.max(below_left) + BODY;
    if let Some(mark) = report.mark {
        w.paragraph(LEFT, WIDTH, Face::Italic, SMALL, mark, Align::Center);
        w.y += 4.0;
    }
    w.paragraph(LEFT, WIDTH, Face::Bold, 14.0, "BÁO CÁO", Align::Center);
    w.paragraph(LEFT, WIDTH, Face::Bold, BODY, &report.view.form_name, Align::Center);
    w.paragraph(LEFT, WIDTH, Face::Regular, BODY, &report.view.period_label, Align::Center);
    w.y += BODY;
}

/// The widths of the table's columns: number, indicator, unit of measure,
/// then the figures; the indicator takes what the others leave.
fn column_widths(figures: usize) -> Vec<f32> {
    let (number, measure) = (28.0, 52.0);
    let figure = if figures == 0 { 0.0 } else { ((WIDTH - number - measure - 150.0) / figures as f32).min(70.0) };
    let mut widths = vec![number, WIDTH - number - measure - figure * figures as f32, measure];
    widths.extend(std::iter::repeat_n(figure, figures));
    widths
}

/// A table cell: its lines, face, alignment, indent and size.
type Cell = (Vec<String>, Face, Align, f32, f32);

/// One table row: each cell's lines, drawn in its box with borders. A row
/// that does not fit goes to a new page, under `header` repeated there.
fn table_row(w: &mut Writer<'_>, widths: &[f32], cells: &[Cell], header: Option<&[Cell]>) {
    let line_height = SMALL * 1.25;
    let lines = cells.iter().map(|(l, ..)| l.len()).max().unwrap_or(1).max(1);
    let height = lines as f32 * line_height + 2.0 * PAD;
    if w.y + height > BOTTOM {
        w.end_page();
        w.start_page();
        if let Some(header) = header {
            table_row(w, widths, header, None);
        }
    }
    let top = w.y;
    let mut x = LEFT;
    for ((lines, face, align, indent, size), width) in cells.iter().zip(widths) {
        for (i, line) in lines.iter().enumerate() {
            w.y = top + PAD + i as f32 * line_height;
            w.text_in(x + PAD + indent, width - 2.0 * PAD - indent, *face, *size, line, *align);
        }
        w.line((x, top), (x, top + height));
        x += width;
    }
    w.line((x, top), (x, top + height));
    w.line((LEFT, top), (x, top));
    w.line((LEFT, top + height), (x, top + height));
    w.y = top + height;
}

fn table(w: &mut Writer<'_>, report: &PrintedReport) {
    let widths = column_widths(report.columns.len());
    let faces = w.faces;
    let fit = |text: &str, face: Face, column: usize, indent: f32| {
        faces.wrap(face, SMALL, text, widths[column] - 2.0 * PAD - indent)
    };
    let mut header: Vec<&str> = vec!["STT", "Chỉ tiêu", "Đơn vị tính"];
    header.extend(report.columns.iter().copied());
    let header: Vec<Cell> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (fit(h, Face::Bold, i, 0.0), Face::Bold, Align::Center, 0.0, SMALL))
        .collect();
    // A figure is never broken across lines: set smaller until it fits.
    let figure = |text: &str, face: Face, column: usize| {
        let room = widths[column] - 2.0 * PAD;
        let mut size = SMALL;
        while size > 6.0 && faces.width(face, size, text) > room {
            size -= 0.5;
        }
        (vec![text.to_string()], face, Align::Right, 0.0, size)
    };
    table_row(w, &widths, &header, None);
    for row in &report.rows {
        let face = if row.heading { Face::Bold } else { Face::Regular };
        let indent = f32::from(row.indent) * 8.0;
        let mut cells = vec![
            (fit(&row.stt, face, 0, 0.0), face, Align::Center, 0.0, SMALL),
            (fit(&row.label, face, 1, indent), face, Align::Left, indent, SMALL),
            (fit(&row.unit_of_measure, face, 2, 0.0), face, Align::Center, 0.0, SMALL),
        ];
        cells.extend(row.cells.iter().enumerate().map(|(i, c)| figure(c, face, 3 + i)));
        table_row(w, &widths, &cells, Some(&header));
    }
    w.y += BODY / 2.0;
    for note in report.estimated_note.into_iter().chain(report.pulled_note.as_deref()) {
        w.paragraph(LEFT, WIDTH, Face::Italic, SMALL, note, Align::Left);
    }
    w.y += BODY;
}

/// Recipients on the left; the signature block on the right.
fn closing(w: &mut Writer<'_>, report: &PrintedReport) {
    let block = (report.titles.len() as f32 + 7.0) * BODY * 1.3;
    w.room_for(block);
    let top = w.y;
    let left = WIDTH * 0.45;
    w.paragraph(LEFT, left, Face::Bold, 12.0, "Nơi nhận:", Align::Left);
    w.paragraph(LEFT, left, Face::Regular, SMALL, "- Như trên;", Align::Left);
    w.paragraph(LEFT, left, Face::Regular, SMALL, "- Lưu: VT.", Align::Left);
    w.y = top;
    let (x, width) = (LEFT + left, WIDTH - left);
    for title in &report.titles {
        w.paragraph(x, width, Face::Bold, BODY, title, Align::Center);
    }
    w.y += BODY;
    if report.view.signature.is_some() {
        w.paragraph(x, width, Face::Italic, BODY, "(Đã ký số)", Align::Center);
    }
    w.y += 2.0 * BODY;
    w.paragraph(x, width, Face::Bold, BODY, &report.signer, Align::Center);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::view;

    fn pages(pdf: &[u8]) -> usize {
        pdf.windows(10).filter(|w| w == b"/Type/Page").count() - pdf.windows(11).filter(|w| w == b"/Type/Pages").count()
    }

    #[test]
    fn a_long_report_goes_on_to_further_pages() {
        let short = render(view(None), false).unwrap();
        assert!(short.starts_with(b"%PDF-"));
        assert_eq!(pages(&short), 1);
        let mut long = view(None);
        let row = long.rows[0].clone();
        long.rows = (1..=90).map(|i| baocao_core::report::ReportRow { stt: i.to_string(), ..row.clone() }).collect();
        let long = render(long, true).unwrap();
        assert!(pages(&long) >= 3);
    }

    #[test]
    fn text_wraps_at_spaces_and_inside_a_word_only_when_it_must() {
        let faces = Faces::load().unwrap();
        let lines = faces.wrap(Face::Regular, SMALL, "Tỷ lệ hồ sơ giải quyết trực tuyến toàn trình", 80.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| faces.width(Face::Regular, SMALL, l) <= 80.0));
        assert_eq!(lines.join(" "), "Tỷ lệ hồ sơ giải quyết trực tuyến toàn trình");
        let long = faces.wrap(Face::Regular, SMALL, &"9".repeat(60), 50.0);
        assert!(long.len() > 1 && long.iter().all(|l| faces.width(Face::Regular, SMALL, l) <= 50.0));
    }
}
