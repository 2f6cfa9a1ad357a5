//! Indicator lists: CSV with columns `code,name,unit,value_type,aggregation,group`
//! and, for computed indicators, `formula`.

use std::collections::HashMap;

use baocao_core::indicator::formula_references;
use baocao_core::{Aggregation, Indicator, ValueType};

use crate::error::{IngestError, Problems};
use crate::table::Table;

/// Reads an indicator list; all or nothing.
pub fn read_csv(file: &str, text: &str) -> Result<Vec<Indicator>, Problems> {
    let mut errors = Vec::new();
    let table = Table::read(file, text, &["code", "name", "unit", "value_type", "aggregation", "group"], &mut errors);
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    for row in table.rows() {
        let code = row.parsed("code", &mut errors, |c| {
            if c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' || ch == '-') {
                Ok(c.to_string())
            } else {
                Err(format!("mã «{c}» không hợp lệ: dùng chữ A–Z, chữ số, «_», «.» hoặc «-»"))
            }
        });
        let name = row.required("name", &mut errors);
        let unit = row.required("unit", &mut errors);
        let value_type = row.parsed("value_type", &mut errors, |v| v.parse::<ValueType>());
        let formula = row.get("formula");
        let aggregation =
            row.parsed("aggregation", &mut errors, |a| Aggregation::parse(a, Some(formula).filter(|f| !f.is_empty())));
        let (Some(code), Some(name), Some(unit), Some(value_type), Some(aggregation)) =
            (code, name, unit, value_type, aggregation)
        else {
            continue;
        };
        if let Some(first) = seen.insert(code.clone(), row.line()) {
            errors.push(row.problem("code", format!("mã {code} có hai lần (lần đầu ở dòng {first})")));
            continue;
        }
        let group = Some(row.get("group").to_string()).filter(|g| !g.is_empty());
        out.push(Indicator { code, name, unit, value_type, aggregation, group });
    }
    // Formulas may only name indicators of the same list.
    for i in &out {
        if let Some(formula) = i.aggregation.formula() {
            for name in formula_references(formula) {
                if !seen.contains_key(name) {
                    let line = seen[&i.code];
                    errors.push(IngestError {
                        location: crate::Location {
                            file: file.into(),
                            line: Some(line),
                            column: Some("formula".into()),
                            ..Default::default()
                        },
                        message: format!("công thức dùng «{name}», không phải chỉ tiêu trong danh sách này"),
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort();
        Err(Problems(errors))
    }
}

/// Reads an indicator list from the first sheet of a workbook, laid out like
/// the CSV (header on the first row); problems name the sheet, and rows as
/// the spreadsheet numbers them.
pub fn read_xlsx(file: &str, bytes: &[u8]) -> Result<Vec<Indicator>, Problems> {
    let (label, text) = crate::table::first_sheet_as_csv(file, bytes)?;
    read_csv(&label, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_reads_like_the_csv_and_names_its_rows() {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet().set_name("Chỉ tiêu").unwrap();
        let rows = [
            ["code", "name", "unit", "value_type", "aggregation", "group"],
            ["HS_TIEP_NHAN", "Số hồ sơ tiếp nhận", "hồ sơ", "integer", "sum", "Cải cách hành chính"],
            ["HS_SAI", "Số hồ sơ", "hồ sơ", "whole", "sum", ""],
        ];
        for (i, row) in rows.iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                sheet.write_string(i as u32, j as u16, *cell).unwrap();
            }
        }
        let bytes = workbook.save_to_buffer().unwrap();
        let err = read_xlsx("chi-tieu.xlsx", &bytes).unwrap_err().to_string();
        assert!(
            err.contains("chi-tieu.xlsx, trang tính «Chỉ tiêu», dòng 3, cột `value_type`: kiểu giá trị «whole»"),
            "{err}"
        );
        let ok = rows[..2].iter().map(|r| r.join(",")).collect::<Vec<_>>().join("\n");
        assert_eq!(read_csv("c.csv", &ok).unwrap()[0].code, "HS_TIEP_NHAN");
    }
}
