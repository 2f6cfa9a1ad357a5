//! Agency lists and rosters of officials as agencies send them: CSV, or
//! the first sheet of a workbook, with Vietnamese or English headers.
//!
//! Rosters carry only what the shared systems need: name, date of birth,
//! gender, agency, position, post, official email, phone, and the role
//! wanted in each system. No identity-card number or home address is read
//! even when a sheet has such columns.

use std::collections::BTreeMap;

use baocao_core::directory::{Agency, Gender, Listing};
use chrono::{Datelike, NaiveDate};

use crate::error::Problems;
use crate::table::{Table, first_sheet_as_csv};

const AGENCY_ALIASES: &[(&str, &str)] = &[
    ("mã định danh", "code"),
    ("mã cơ quan", "code"),
    ("tên cơ quan", "name"),
    ("tên", "name"),
    ("loại", "kind"),
    ("cơ quan cấp trên", "parent_code"),
    ("mã đơn vị hành chính", "unit_code"),
    ("hiệu lực từ", "valid_from"),
    ("hiệu lực đến", "valid_to"),
    ("cơ quan kế thừa", "successor_codes"),
    ("kế thừa", "successor_codes"),
    ("quyết định lưu trữ", "archive"),
    ("lưu trữ", "archive"),
];

fn optional_date(text: &str) -> Result<Option<NaiveDate>, String> {
    if text.trim().is_empty() { Ok(None) } else { baocao_core::parse_date(text).map(Some) }
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// Reads an agency list; all or nothing.
pub fn read_agencies_csv(file: &str, text: &str) -> Result<Vec<Agency>, Problems> {
    let mut errors = Vec::new();
    let table = Table::read_aliased(file, text, &["code", "name", "kind"], AGENCY_ALIASES, &mut errors);
    let mut out = Vec::new();
    for row in table.rows() {
        let code = row.required("code", &mut errors);
        let name = row.required("name", &mut errors);
        let kind = row.required("kind", &mut errors);
        let from = row.parsed_optional("valid_from", &mut errors, optional_date);
        let to = row.parsed_optional("valid_to", &mut errors, optional_date);
        if let (Some(code), Some(name), Some(kind), Some(valid_from), Some(valid_to)) = (code, name, kind, from, to) {
            out.push(Agency {
                code,
                name,
                kind,
                parent_code: optional(row.get("parent_code")),
                unit_code: optional(row.get("unit_code")),
                valid_from,
                valid_to,
                successor_codes: row
                    .get("successor_codes")
                    .split([',', ';'])
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect(),
                archive: optional(row.get("archive")),
            });
        }
    }
    Problems::or(errors, out)
}

const ROSTER_ALIASES: &[(&str, &str)] = &[
    ("mã cơ quan", "agency_code"),
    ("mã định danh cơ quan", "agency_code"),
    ("họ và tên", "full_name"),
    ("họ tên", "full_name"),
    ("ngày sinh", "birth_date"),
    ("giới tính", "gender"),
    ("chức vụ", "position"),
    ("vị trí công tác", "post"),
    ("vị trí việc làm", "post"),
    ("thư điện tử", "email"),
    ("email công vụ", "email"),
    ("điện thoại", "phone"),
    ("số điện thoại", "phone"),
    ("vai trò", "roles"),
];

fn gender(text: &str) -> Result<Option<Gender>, String> {
    match baocao_core::text::fold(text).as_str() {
        "" => Ok(None),
        "nam" | "male" | "m" => Ok(Some(Gender::Male)),
        "nu" | "female" | "f" => Ok(Some(Gender::Female)),
        _ => Err(format!("«{text}» không phải Nam hoặc Nữ")),
    }
}

fn email(text: &str) -> Result<Option<String>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let valid = t.is_ascii()
        && t.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !t.contains(char::is_whitespace);
    if valid {
        Ok(Some(t.to_ascii_lowercase()))
    } else {
        Err(format!("«{t}» không phải địa chỉ thư điện tử (chữ không dấu)"))
    }
}

fn phone(text: &str) -> Result<Option<String>, String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    let body = digits.strip_prefix('+').unwrap_or(&digits);
    if body.len() >= 9 && body.len() <= 12 && body.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(digits))
    } else {
        Err(format!("«{}» không phải số điện thoại (9 đến 12 chữ số)", text.trim()))
    }
}

/// `hệ thống:vai trò` pairs separated by `;`, e.g. `baocao:data_entry; email:user`.
fn roles(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (system, role) = part
            .split_once(':')
            .ok_or_else(|| format!("«{part}» cần viết HỆ_THỐNG:VAI_TRÒ (ví dụ baocao:data_entry)"))?;
        out.insert(system.trim().to_ascii_lowercase(), role.trim().to_string());
    }
    Ok(out)
}

/// Reads a roster; all or nothing, every problem named by line and column.
pub fn read_roster_csv(file: &str, text: &str) -> Result<Vec<Listing>, Problems> {
    let mut errors = Vec::new();
    let required = ["agency_code", "full_name", "birth_date", "position", "post"];
    let table = Table::read_aliased(file, text, &required, ROSTER_ALIASES, &mut errors);
    let mut out = Vec::new();
    for row in table.rows() {
        let agency_code = row.required("agency_code", &mut errors);
        let full_name = row.required("full_name", &mut errors);
        let birth_date = row.parsed("birth_date", &mut errors, baocao_core::parse_date);
        let gender = row.parsed_optional("gender", &mut errors, gender);
        let position = row.required("position", &mut errors);
        let post = row.required("post", &mut errors);
        let email = row.parsed_optional("email", &mut errors, email);
        let phone = row.parsed_optional("phone", &mut errors, phone);
        let roles = row.parsed_optional("roles", &mut errors, roles);
        let (
            Some(agency_code),
            Some(full_name),
            Some(birth_date),
            Some(gender),
            Some(position),
            Some(post),
            Some(email),
            Some(phone),
            Some(roles),
        ) = (agency_code, full_name, birth_date, gender, position, post, email, phone, roles)
        else {
            continue;
        };
        let full_name = full_name.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push(Listing {
            place: format!("{file}, dòng {}", row.line()),
            agency_code,
            full_name,
            birth_date,
            gender,
            position,
            post,
            email,
            phone,
            roles,
        });
    }
    Problems::or(errors, out)
}

/// A roster from the first sheet of a workbook.
pub fn read_roster_xlsx(file: &str, bytes: &[u8]) -> Result<Vec<Listing>, Problems> {
    let (label, text) = first_sheet_as_csv(file, bytes)?;
    read_roster_csv(&label, &text)
}

/// An agency list from the first sheet of a workbook.
pub fn read_agencies_xlsx(file: &str, bytes: &[u8]) -> Result<Vec<Agency>, Problems> {
    let (label, text) = first_sheet_as_csv(file, bytes)?;
    read_agencies_csv(&label, &text)
}

/// The roster template agencies fill in: Vietnamese headers (read back by
/// [`read_roster_xlsx`]), drop-down lists for the agency (from `agencies`:
/// code and name), gender and the reporting-system role, and a hint on
/// each column.
pub fn write_roster_template(agencies: &[(String, String)]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{DataValidation, Format, Formula, Workbook};
    const ROWS: u32 = 2000;
    let columns: [(&str, &str, f64); 9] = [
        ("Mã cơ quan", "Chọn trong danh sách cơ quan (sheet «Cơ quan»).", 14.0),
        ("Họ và tên", "Viết đủ dấu, ví dụ: Nguyễn Văn An.", 26.0),
        ("Ngày sinh", "dd/mm/yyyy, ví dụ 01/02/1980.", 12.0),
        ("Giới tính", "Nam hoặc Nữ.", 10.0),
        ("Chức vụ", "Ví dụ: Chủ tịch, Phó Chủ tịch, Công chức.", 18.0),
        ("Vị trí công tác", "Ví dụ: Văn phòng - Thống kê.", 24.0),
        ("Email công vụ", "Để trống nếu chưa có; hệ thống sẽ cấp.", 24.0),
        ("Số điện thoại", "9 đến 12 chữ số.", 14.0),
        ("Vai trò", "Vai trò trong hệ thống báo cáo, ví dụ baocao:data_entry.", 24.0),
    ];
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold().set_text_wrap().set_background_color("#EEF1F5");
    let text = Format::new().set_num_format("@");
    let list = workbook.add_worksheet();
    list.set_name("Danh sách")?;
    let last = agencies.len().max(1) + 1;
    // Each role on the unit the agency serves, then on the agency itself.
    let roles: Vec<String> = ["", "@agency"]
        .iter()
        .flat_map(|scope| baocao_core::access::Role::ALL.iter().map(move |r| format!("baocao:{}{scope}", r.as_str())))
        .collect();
    for (col, (title, hint, width)) in columns.iter().enumerate() {
        let col = col as u16;
        list.write_string_with_format(0, col, *title, &header)?;
        list.set_column_width(col, *width)?;
        list.set_column_format(col, &text)?;
        // One validation a cell (Excel allows no more): the list where there is one, with the hint.
        let validation = match col {
            0 => DataValidation::new().allow_list_formula(Formula::new(format!("='Cơ quan'!$A$2:$A${last}"))),
            3 => DataValidation::new().allow_list_strings(&["Nam", "Nữ"])?,
            // The usual values are offered; several systems separated by `;` may be typed.
            8 => DataValidation::new()
                .allow_list_strings(&roles)?
                .set_error_style(rust_xlsxwriter::DataValidationErrorStyle::Information),
            _ => DataValidation::new().allow_any_value(),
        };
        list.add_data_validation(1, col, ROWS, col, &validation.set_input_title(*title)?.set_input_message(*hint)?)?;
    }
    list.set_freeze_panes(1, 0)?;
    let sheet = workbook.add_worksheet();
    sheet.set_name("Cơ quan")?;
    sheet.write_string_with_format(0, 0, "Mã cơ quan", &header)?;
    sheet.write_string_with_format(0, 1, "Tên cơ quan", &header)?;
    sheet.set_column_width(1, 40.0)?;
    for (i, (code, name)) in agencies.iter().enumerate() {
        sheet.write_string(i as u32 + 1, 0, code)?;
        sheet.write_string(i as u32 + 1, 1, name)?;
    }
    workbook.save_to_buffer()
}

/// One list of certificate requests: title, date, bordered table.
fn list_sheet(
    workbook: &mut rust_xlsxwriter::Workbook,
    name: &str,
    heading: &str,
    columns: &[(&str, f64)],
    rows: Vec<Vec<String>>,
    day: NaiveDate,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder};
    let title = Format::new().set_bold().set_font_size(13).set_align(FormatAlign::Center);
    let header = Format::new().set_bold().set_text_wrap().set_border(FormatBorder::Thin).set_align(FormatAlign::Center);
    let cell = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
    let sheet = workbook.add_worksheet();
    sheet.set_name(name)?;
    let last = columns.len() as u16 - 1;
    sheet.merge_range(0, 0, 0, last, heading, &title)?;
    let date = format!("(tính đến ngày {})", baocao_core::date::format_vn(day));
    sheet.merge_range(1, 0, 1, last, &date, &Format::new().set_italic().set_align(FormatAlign::Center))?;
    for (col, (text, width)) in columns.iter().enumerate() {
        sheet.write_string_with_format(3, col as u16, *text, &header)?;
        sheet.set_column_width(col as u16, *width)?;
    }
    for (i, values) in rows.iter().enumerate() {
        for (col, v) in values.iter().enumerate() {
            sheet.write_string_with_format(4 + i as u32, col as u16, v, &cell)?;
        }
    }
    Ok(())
}

/// A workbook whose properties carry `day` instead of the time it was
/// written, so that the same list of the same day is the same file.
fn dated_workbook(day: NaiveDate) -> Result<rust_xlsxwriter::Workbook, rust_xlsxwriter::XlsxError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let midnight = rust_xlsxwriter::ExcelDateTime::from_ymd(
        u16::try_from(day.year()).unwrap_or(2000),
        u8::try_from(day.month()).unwrap_or(1),
        u8::try_from(day.day()).unwrap_or(1),
    )?;
    workbook.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&midnight));
    Ok(workbook)
}

/// An account plan, a roster or any list of a day as a one-sheet workbook
/// (sheet `sheet`): heading, the day, Vietnamese column headers, the rows.
/// The same list of the same day gives the same bytes.
pub fn write_plan(
    sheet: &str,
    heading: &str,
    headers: &[&str],
    rows: Vec<Vec<String>>,
    day: NaiveDate,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut workbook = dated_workbook(day)?;
    let columns: Vec<(&str, f64)> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let widest = rows.iter().filter_map(|r| r.get(i)).map(|v| v.chars().count()).max().unwrap_or(0);
            (*h, (widest.max(h.chars().count()) as f64 + 2.0).min(60.0))
        })
        .collect();
    list_sheet(&mut workbook, sheet, heading, &columns, rows, day)?;
    workbook.save_to_buffer()
}

/// A person on the list of certificate requests for individuals (Mẫu 01).
pub struct CertificatePerson {
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub position: String,
    pub agency: String,
    pub email: String,
    pub phone: Option<String>,
}

/// An agency on the list of certificate requests for organizations (Mẫu 02).
pub struct CertificateAgency {
    pub name: String,
    pub code: String,
    pub unit: Option<String>,
}

/// The lists of digital-signature certificate requests: sheet «Mẫu 01»
/// (individuals) and sheet «Mẫu 02» (organizations), as of `day`. The
/// personal identification number is left for the agency to fill in:
/// baocao does not keep it.
pub fn write_certificate_requests(
    people: &[CertificatePerson],
    agencies: &[CertificateAgency],
    day: NaiveDate,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut workbook = dated_workbook(day)?;
    let individuals = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                (i + 1).to_string(),
                p.full_name.clone(),
                baocao_core::date::format_vn(p.birth_date),
                String::new(),
                p.position.clone(),
                p.agency.clone(),
                p.email.clone(),
                p.phone.clone().unwrap_or_default(),
            ]
        })
        .collect();
    list_sheet(
        &mut workbook,
        "Mẫu 01",
        "DANH SÁCH ĐỀ NGHỊ CẤP CHỨNG THƯ CHỮ KÝ SỐ CHO CÁ NHÂN",
        &[
            ("STT", 6.0),
            ("Họ và tên", 26.0),
            ("Ngày sinh", 12.0),
            ("Số định danh cá nhân", 20.0),
            ("Chức vụ", 18.0),
            ("Cơ quan, đơn vị công tác", 30.0),
            ("Thư điện tử công vụ", 28.0),
            ("Số điện thoại", 14.0),
        ],
        individuals,
        day,
    )?;
    let organizations = agencies
        .iter()
        .enumerate()
        .map(|(i, a)| vec![(i + 1).to_string(), a.name.clone(), a.code.clone(), a.unit.clone().unwrap_or_default()])
        .collect();
    list_sheet(
        &mut workbook,
        "Mẫu 02",
        "DANH SÁCH ĐỀ NGHỊ CẤP CHỨNG THƯ CHỮ KÝ SỐ CHO CƠ QUAN, TỔ CHỨC",
        &[("STT", 6.0), ("Tên cơ quan, tổ chức", 40.0), ("Mã định danh điện tử", 20.0), ("Đơn vị hành chính", 18.0)],
        organizations,
        day,
    )?;
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_headers_and_every_bad_field_named() {
        let text = "Mã cơ quan,Họ và tên,Ngày sinh,Giới tính,Chức vụ,Vị trí công tác,Email công vụ,Số điện thoại,Vai trò,Số CCCD\n\
            X01,Nguyễn  Văn An,01/02/1980,Nam,Chủ tịch,Lãnh đạo,,0912 345 678,baocao:approver; email:user,012345678901\n\
            X01,Trần Thị Bình,31/02/1990,Bà,Công chức,Văn phòng,binh@@x,12,baocao,\n";
        let err = read_roster_csv("ds.csv", text).unwrap_err().to_string();
        for expected in [
            "ds.csv, dòng 3, cột `birth_date`",
            "ds.csv, dòng 3, cột `gender`: «Bà» không phải Nam hoặc Nữ",
            "ds.csv, dòng 3, cột `email`",
            "ds.csv, dòng 3, cột `phone`",
            "ds.csv, dòng 3, cột `roles`",
        ] {
            assert!(err.contains(expected), "{expected} in {err}");
        }
        let ok: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
        let rows = read_roster_csv("ds.csv", &ok).unwrap();
        assert_eq!(rows[0].full_name, "Nguyễn Văn An");
        assert_eq!(rows[0].roles["baocao"], "approver");
        assert_eq!(rows[0].phone.as_deref(), Some("0912345678"));
    }

    #[test]
    fn agencies_name_their_successors_or_an_archive_decision() {
        let text = "Mã định danh,Tên cơ quan,Loại,Mã đơn vị hành chính,Hiệu lực đến,Cơ quan kế thừa,Quyết định lưu trữ\n\
            H01.01,UBND xã Kroong,UBND xã,23314,01/07/2025,H51.01; H51.02,\n\
            H01.09,UBND huyện Sa Thầy,UBND huyện,610,01/07/2025,,QĐ 12/QĐ-UBND\n\
            H01.10,Phòng Nội vụ,phòng,610,32/07/2025,,\n";
        let err = read_agencies_csv("cq.csv", text).unwrap_err().to_string();
        assert!(err.contains("cq.csv, dòng 4, cột `valid_to`"), "{err}");
        let ok: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
        let agencies = read_agencies_csv("cq.csv", &ok).unwrap();
        assert_eq!(agencies[0].successor_codes, ["H51.01", "H51.02"]);
        assert_eq!((agencies[1].successor_codes.len(), agencies[1].archive.as_deref()), (0, Some("QĐ 12/QĐ-UBND")));
    }

    #[test]
    fn the_empty_template_is_a_valid_roster_with_no_one_on_it() {
        let agencies = vec![("H51.01".to_string(), "UBND xã Ngọk Bay".to_string())];
        let bytes = write_roster_template(&agencies).unwrap();
        assert_eq!(read_roster_xlsx("mau.xlsx", &bytes).unwrap(), vec![]);
    }
}
