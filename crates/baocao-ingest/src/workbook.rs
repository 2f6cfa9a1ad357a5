//! Workbooks (XLSX) read within limits.
//!
//! An XLSX file is a zip archive of XML. A file of one megabyte can unpack
//! to gigabytes (a zip bomb), and a sheet of two cells, `A1` and
//! `XFD1048576`, makes a spreadsheet library allocate a grid of seventeen
//! billion cells. Both would exhaust the server's memory before any check
//! ran. So a workbook is read in two steps, each bounded:
//!
//! 1. every member of the archive is inflated once into nothing, counting
//!    bytes, and the count stops at [`Limits::unpacked`]: what the
//!    archive's headers declare is not trusted;
//! 2. a sheet is read cell by cell (never as a grid), and refused past
//!    [`Limits::cells`] cells or beyond [`Limits::rows`] rows and
//!    [`Limits::columns`] columns; only then is it laid out as a grid.
//!
//! Refusals are in Vietnamese and name the file and the sheet.

use std::io::{Cursor, Read};

use calamine::{Cell, Data, Range, Reader, Xlsx, open_workbook_from_rs};

use crate::error::{IngestError, Location, OVER_LIMIT, Problems};

/// What a workbook may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Members of the archive.
    pub members: usize,
    /// Bytes of all members once unpacked.
    pub unpacked: u64,
    /// Cells with a value in one sheet.
    pub cells: usize,
    /// Rows of one sheet (the last row with a value).
    pub rows: u32,
    /// Columns of one sheet (the last column with a value).
    pub columns: u32,
}

/// The limits every workbook people send is read within: far above a
/// province's largest roster (tens of thousands of rows of a dozen
/// columns), far below what would strain the server.
pub const LIMITS: Limits = Limits { members: 1_000, unpacked: 64 << 20, cells: 1_000_000, rows: 200_000, columns: 200 };

/// A workbook whose archive was checked against [`LIMITS`].
pub struct Workbook<'a> {
    file: String,
    inner: Xlsx<Cursor<&'a [u8]>>,
    limits: Limits,
}

fn refusal(file: &str, sheet: Option<&str>, message: String) -> IngestError {
    IngestError {
        location: Location { file: file.into(), sheet: sheet.map(Into::into), ..Default::default() },
        message,
    }
}

impl<'a> Workbook<'a> {
    /// Checks the archive and opens the workbook.
    pub fn open(file: &str, bytes: &'a [u8]) -> Result<Workbook<'a>, Problems> {
        Self::open_within(file, bytes, LIMITS)
    }

    pub fn open_within(file: &str, bytes: &'a [u8], limits: Limits) -> Result<Workbook<'a>, Problems> {
        check_archive(bytes, limits).map_err(|m| Problems(vec![refusal(file, None, m)]))?;
        let inner = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
            Problems(vec![refusal(file, None, format!("không đọc được tệp XLSX (not an XLSX workbook: {e})"))])
        })?;
        Ok(Workbook { file: file.into(), inner, limits })
    }

    pub fn sheet_names(&self) -> Vec<String> {
        self.inner.sheet_names()
    }

    /// The sheet named `name`, as a grid; `None` when there is no such sheet.
    pub fn sheet(&mut self, name: &str) -> Result<Option<Range<Data>>, Problems> {
        if !self.sheet_names().iter().any(|n| n == name) {
            return Ok(None);
        }
        self.read_sheet(name).map(Some).map_err(|m| Problems(vec![refusal(&self.file, Some(name), m)]))
    }

    /// The first sheet and its name.
    pub fn first_sheet(&mut self) -> Result<(String, Range<Data>), Problems> {
        let Some(name) = self.sheet_names().into_iter().next() else {
            return Err(Problems(vec![refusal(&self.file, None, "bảng tính không có trang nào (no sheet)".into())]));
        };
        let range = self.read_sheet(&name).map_err(|m| Problems(vec![refusal(&self.file, Some(&name), m)]))?;
        Ok((name, range))
    }

    fn read_sheet(&mut self, name: &str) -> Result<Range<Data>, String> {
        let limits = self.limits;
        let mut reader =
            self.inner.worksheet_cells_reader(name).map_err(|e| format!("không đọc được trang tính: {e}"))?;
        let mut cells = Vec::new();
        while let Some(cell) = reader.next_cell().map_err(|e| format!("không đọc được trang tính: {e}"))? {
            let (row, column) = cell.get_position();
            if row >= limits.rows {
                return Err(format!("{OVER_LIMIT}trang tính có quá {} dòng (too many rows)", limits.rows));
            }
            if column >= limits.columns {
                return Err(format!("{OVER_LIMIT}trang tính có quá {} cột (too many columns)", limits.columns));
            }
            let value: Data = cell.get_value().clone().into();
            if value == Data::Empty {
                continue;
            }
            if cells.len() == limits.cells {
                return Err(format!("{OVER_LIMIT}trang tính có quá {} ô có dữ liệu (too many cells)", limits.cells));
            }
            cells.push(Cell::new((row, column), value));
        }
        // Bounded by rows × columns above, whatever the cells' spread.
        Ok(Range::from_sparse(cells))
    }
}

/// Inflates every member of the archive, counting, without keeping any of
/// it; refuses past the limits.
fn check_archive(bytes: &[u8], limits: Limits) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("không phải tệp XLSX hợp lệ (not an XLSX workbook: {e})"))?;
    if archive.len() > limits.members {
        return Err(format!("{OVER_LIMIT}tệp XLSX có quá {} thành phần (too many archive members)", limits.members));
    }
    let too_large = || {
        format!(
            "{OVER_LIMIT}tệp XLSX khi giải nén vượt quá {} MB; hãy chia nhỏ tệp (unpacks to more than {} MiB)",
            limits.unpacked >> 20,
            limits.unpacked >> 20
        )
    };
    let mut total: u64 = 0;
    let mut sink = [0u8; 16 * 1024];
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(|e| format!("tệp XLSX bị hỏng (damaged archive: {e})"))?;
        if member.size() > limits.unpacked {
            return Err(too_large());
        }
        loop {
            let n = member.read(&mut sink).map_err(|e| format!("tệp XLSX bị hỏng (damaged archive: {e})"))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > limits.unpacked {
                return Err(too_large());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zipped(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in members {
            out.start_file(*name, options).unwrap();
            out.write_all(bytes).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn an_archive_that_unpacks_past_the_limit_is_refused_without_unpacking_it_all() {
        let zeros = vec![0u8; 8 << 20];
        let bomb = zipped(&[("xl/a.xml", &zeros), ("xl/b.xml", &zeros)]);
        assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
        let limits = Limits { unpacked: 10 << 20, ..LIMITS };
        let err = Workbook::open_within("bom.xlsx", &bomb, limits).err().unwrap().to_string();
        assert!(err.contains("bom.xlsx") && err.contains("vượt quá 10 MB"), "{err}");
    }

    /// An archive whose headers say a member is small while it inflates to
    /// much more: the count is of what comes out, not what is declared.
    pub(crate) fn lying_bomb(unpacked: usize) -> Vec<u8> {
        let mut bytes = zipped(&[("xl/sharedStrings.xml", &vec![b'0'; unpacked])]);
        let declared = 1000u32.to_le_bytes();
        let local = bytes.windows(4).position(|w| w == [0x50, 0x4b, 0x03, 0x04]).unwrap();
        bytes[local + 22..local + 26].copy_from_slice(&declared);
        let central = bytes.windows(4).position(|w| w == [0x50, 0x4b, 0x01, 0x02]).unwrap();
        bytes[central + 24..central + 28].copy_from_slice(&declared);
        bytes
    }

    #[test]
    fn an_archive_that_lies_about_its_sizes_is_measured_by_what_it_unpacks_to() {
        let bomb = lying_bomb(20 << 20);
        let limits = Limits { unpacked: 10 << 20, ..LIMITS };
        match Workbook::open_within("doi.xlsx", &bomb, limits) {
            // Refused by its size, or by the checksum of what was read against
            // what was declared: never read further than the limit.
            Err(p) => assert!(p.to_string().contains("doi.xlsx"), "{p}"),
            Ok(_) => panic!("an archive that unpacks past the limit was opened"),
        }
    }

    /// A sheet whose declared extent ends before it starts
    /// (`<dimension ref="C3:A1"/>`): calamine subtracts one corner from the
    /// other, which overflows in a build with overflow checks. The workspace
    /// builds calamine without them in every profile, as a release build
    /// does, so the sheet is read, not a panic (found by `baocao-fuzz`).
    #[test]
    fn a_sheet_whose_extent_ends_before_it_starts_is_read() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write(0, 0, "a").unwrap();
        sheet.write(2, 2, "c").unwrap();
        let written = book.save_to_buffer().unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(written)).unwrap();
        let mut members = Vec::new();
        for i in 0..archive.len() {
            let mut member = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut member, &mut bytes).unwrap();
            let text =
                String::from_utf8_lossy(&bytes).replace(r#"<dimension ref="A1:C3"/>"#, r#"<dimension ref="C3:A1"/>"#);
            let name = member.enclosed_name().unwrap().to_string_lossy().into_owned();
            members.push((name, text.into_bytes()));
        }
        assert!(members.iter().any(|(_, b)| String::from_utf8_lossy(b).contains("C3:A1")), "the extent was reversed");
        let bytes = zipped(&members.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect::<Vec<_>>());
        let mut book = Workbook::open("nguoc.xlsx", &bytes).unwrap();
        let name = book.sheet_names()[0].clone();
        let _ = book.sheet(&name);
    }

    #[test]
    fn what_is_not_a_workbook_is_named() {
        let err = Workbook::open("x.xlsx", b"PK\x03\x04 not really").err().unwrap().to_string();
        assert!(err.contains("x.xlsx") && err.contains("XLSX"), "{err}");
    }
}
