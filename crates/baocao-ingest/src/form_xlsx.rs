//! Form definitions as workbooks, for those who design forms in a
//! spreadsheet: the same content as the TOML definition, in three sheets.
//!
//! «Thông tin chung»: rows `code`, `name`, `kind`, `valid_from`, `valid_to`,
//! `columns` (comma-separated) and, for an output form, `source_regime`,
//! `source_layout`. «Dòng»: `stt, label, indicator, heading, indent`.
//! «Quy tắc»: `rule, indicator, part, total, parts, min, max, severity`.

use std::collections::HashMap;

use baocao_core::form::{Column, Consolidation, Form, FormKind, FormRow, Rule};
use calamine::Data;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::de::DeserializeOwned;

use crate::error::{IngestError, Location, Problems};

const GENERAL: &str = "Thông tin chung";
const ROWS: &str = "Dòng";
const RULES: &str = "Quy tắc";
const ROW_COLUMNS: [&str; 5] = ["stt", "label", "indicator", "heading", "indent"];
const RULE_COLUMNS: [&str; 8] = ["rule", "indicator", "part", "total", "parts", "min", "max", "severity"];

/// A word of the definition language as TOML writes it (`this_period`).
fn word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn parse_word<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_string()))
        .map_err(|_| format!("«{text}» không phải giá trị được dùng ở đây"))
}

/// Writes a form definition as a workbook.
pub fn write_form(form: &Form) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let general = workbook.add_worksheet().set_name(GENERAL)?;
    let mut facts = vec![
        ("code", form.code.clone()),
        ("name", form.name.clone()),
        ("kind", word(&form.kind)),
        ("valid_from", form.valid_from.map(|d| d.to_string()).unwrap_or_default()),
        ("valid_to", form.valid_to.map(|d| d.to_string()).unwrap_or_default()),
        ("columns", form.columns.iter().map(word).collect::<Vec<_>>().join(", ")),
    ];
    if let Some(source) = &form.source {
        facts.push(("source_regime", source.regime.clone()));
        facts.push(("source_layout", word(&source.layout)));
    }
    for (i, (key, value)) in facts.iter().enumerate() {
        general.write_string_with_format(i as u32, 0, *key, &bold)?;
        general.write_string(i as u32, 1, value)?;
    }
    general.set_column_width(0, 16)?;
    general.set_column_width(1, 70)?;

    let rows = workbook.add_worksheet().set_name(ROWS)?;
    for (j, h) in ROW_COLUMNS.iter().enumerate() {
        rows.write_string_with_format(0, j as u16, *h, &bold)?;
    }
    for (i, r) in form.rows.iter().enumerate() {
        let i = i as u32 + 1;
        rows.write_string(i, 0, &r.stt)?;
        rows.write_string(i, 1, r.label.as_deref().unwrap_or(""))?;
        rows.write_string(i, 2, r.indicator.as_deref().unwrap_or(""))?;
        rows.write_string(i, 3, if r.heading { "x" } else { "" })?;
        rows.write_number(i, 4, f64::from(r.indent))?;
    }
    rows.set_column_width(1, 50)?;
    rows.set_column_width(2, 28)?;

    let rules = workbook.add_worksheet().set_name(RULES)?;
    for (j, h) in RULE_COLUMNS.iter().enumerate() {
        rules.write_string_with_format(0, j as u16, *h, &bold)?;
    }
    for (i, rule) in form.rules.iter().enumerate() {
        let i = i as u32 + 1;
        let value = serde_json::to_value(rule).expect("plain data serializes");
        for (j, key) in RULE_COLUMNS.iter().enumerate() {
            let text = match &value[*key] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Array(items) => {
                    items.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                }
                _ => String::new(),
            };
            rules.write_string(i, j as u16, text)?;
        }
    }
    workbook.save_to_buffer()
}

fn text(data: Option<&Data>) -> String {
    match data {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.trim().to_string(),
        Some(Data::Float(f)) if f.fract() == 0.0 => format!("{}", *f as i64),
        Some(other) => other.to_string().trim().to_string(),
    }
}

/// Reads a form definition from a workbook written by [`write_form`] (or
/// laid out the same way); every problem names its sheet and cell.
pub fn read_form(file: &str, bytes: &[u8]) -> Result<Form, Problems> {
    let problem = |sheet: &str, cell: Option<String>, message: String| IngestError {
        location: Location { file: file.into(), sheet: Some(sheet.into()), cell, ..Default::default() },
        message,
    };
    let mut workbook = crate::workbook::Workbook::open(file, bytes)?;
    let mut errors = Vec::new();
    let mut sheet = |name: &str, errors: &mut Vec<IngestError>| match workbook.sheet(name) {
        Ok(Some(range)) => Some(range),
        Ok(None) => {
            errors.push(problem(name, None, "thiếu trang tính này".into()));
            None
        }
        Err(refused) => {
            errors.extend(refused.0);
            None
        }
    };
    let general = sheet(GENERAL, &mut errors);
    let row_sheet = sheet(ROWS, &mut errors);
    let rule_sheet = sheet(RULES, &mut errors);
    // Without the general sheet nothing else can be read; the other two
    // are checked as far as they go.
    let Some(general) = general else {
        return Err(Problems(errors));
    };
    let row_sheet = row_sheet.unwrap_or_default();
    let rule_sheet = rule_sheet.unwrap_or_default();

    let facts: HashMap<String, (String, String)> = general
        .rows()
        .enumerate()
        .map(|(i, r)| (text(r.first()), (text(r.get(1)), crate::xlsx::cell_name(i as u32, 1))))
        .collect();
    let mut fact = |key: &str, required: bool| -> (String, String) {
        match facts.get(key) {
            Some((v, cell)) if !v.is_empty() || !required => (v.clone(), cell.clone()),
            Some((_, cell)) => {
                errors.push(problem(GENERAL, Some(cell.clone()), format!("«{key}» cần có giá trị")));
                (String::new(), cell.clone())
            }
            None if required => {
                errors.push(problem(GENERAL, None, format!("thiếu dòng «{key}»")));
                (String::new(), String::new())
            }
            None => (String::new(), String::new()),
        }
    };
    let (code, _) = fact("code", true);
    let (name, _) = fact("name", true);
    let (kind, kind_cell) = fact("kind", true);
    let (from, from_cell) = fact("valid_from", false);
    let (to, to_cell) = fact("valid_to", false);
    let (columns, columns_cell) = fact("columns", true);
    let (regime, _) = fact("source_regime", false);
    let (layout, layout_cell) = fact("source_layout", false);
    let mut check = |cell: &str, result: Result<(), String>| {
        if let Err(m) = result {
            errors.push(problem(GENERAL, Some(cell.to_string()), m));
        }
    };
    let kind: FormKind = parse_word(&kind).unwrap_or_else(|e| {
        check(&kind_cell, Err(format!("{e}: cần input hoặc output")));
        FormKind::Input
    });
    let date = |t: &str| if t.is_empty() { Ok(None) } else { baocao_core::parse_date(t).map(Some) };
    let valid_from = date(&from).unwrap_or_else(|e| {
        check(&from_cell, Err(e));
        None
    });
    let valid_to = date(&to).unwrap_or_else(|e| {
        check(&to_cell, Err(e));
        None
    });
    let columns: Vec<Column> = columns
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .filter_map(|c| {
            parse_word(c)
                .map_err(|e| check(&columns_cell, Err(format!("{e}: cần year_plan, this_period, cumulative, same_period_last_year, percent_of_plan or percent_of_same_period"))))
                .ok()
        })
        .collect();
    let source = if regime.is_empty() {
        None
    } else {
        let layout = if layout.is_empty() {
            Default::default()
        } else {
            parse_word(&layout).unwrap_or_else(|e| {
                check(&layout_cell, Err(format!("{e}: cần total hoặc by_unit")));
                Default::default()
            })
        };
        Some(Consolidation { regime, layout })
    };

    let header_of = |range: &calamine::Range<Data>, expected: &[&str]| -> HashMap<String, usize> {
        range
            .rows()
            .next()
            .map(|r| r.iter().enumerate().map(|(i, c)| (text(Some(c)), i)).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| expected.contains(&k.as_str()))
            .collect()
    };
    let rows_header = header_of(&row_sheet, &ROW_COLUMNS);
    let mut rows = Vec::new();
    for (i, r) in row_sheet.rows().enumerate().skip(1) {
        let get = |key: &str| rows_header.get(key).map(|&j| text(r.get(j))).unwrap_or_default();
        if ROW_COLUMNS.iter().all(|k| get(k).is_empty()) {
            continue;
        }
        let indent = get("indent");
        let indent = if indent.is_empty() {
            0
        } else {
            indent.parse::<u8>().unwrap_or_else(|_| {
                let col = rows_header.get("indent").copied().unwrap_or(0) as u32;
                errors.push(problem(
                    ROWS,
                    Some(crate::xlsx::cell_name(i as u32, col)),
                    format!("«{indent}» không phải mức thụt lề (0, 1, 2 …)"),
                ));
                0
            })
        };
        rows.push(FormRow {
            stt: get("stt"),
            indicator: Some(get("indicator")).filter(|s| !s.is_empty()),
            label: Some(get("label")).filter(|s| !s.is_empty()),
            heading: !get("heading").is_empty(),
            indent,
        });
    }

    let rules_header = header_of(&rule_sheet, &RULE_COLUMNS);
    let mut rules = Vec::new();
    for (i, r) in rule_sheet.rows().enumerate().skip(1) {
        let mut object = serde_json::Map::new();
        for key in RULE_COLUMNS {
            let value = rules_header.get(key).map(|&j| text(r.get(j))).unwrap_or_default();
            if value.is_empty() {
                continue;
            }
            let json = match key {
                "min" | "max" => {
                    value.parse::<f64>().map(serde_json::Value::from).unwrap_or(serde_json::Value::String(value))
                }
                "parts" => serde_json::Value::from(value.split(',').map(|p| p.trim().to_string()).collect::<Vec<_>>()),
                _ => serde_json::Value::String(value),
            };
            object.insert(key.to_string(), json);
        }
        if object.is_empty() {
            continue;
        }
        match serde_json::from_value::<Rule>(serde_json::Value::Object(object)) {
            Ok(rule) => rules.push(rule),
            Err(e) => {
                errors.push(problem(RULES, Some(format!("row {}", i + 1)), format!("không phải quy tắc kiểm tra: {e}")))
            }
        }
    }
    if errors.is_empty() {
        Ok(Form { code, name, kind, valid_from, valid_to, columns, rows, rules, source })
    } else {
        Err(Problems(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_forms_round_trip_through_a_workbook() {
        for text in [
            include_str!("../../../data/demo/form-bm01.toml"),
            include_str!("../../../data/demo/form-bm01-2024.toml"),
            include_str!("../../../data/demo/form-th01.toml"),
        ] {
            let form: Form = crate::definitions::read_toml("form.toml", text).unwrap();
            let bytes = write_form(&form).unwrap();
            assert_eq!(read_form("form.xlsx", &bytes).unwrap(), form);
        }
    }

    #[test]
    fn mistakes_are_named_by_sheet_and_cell() {
        let mut form: Form =
            crate::definitions::read_toml("f", include_str!("../../../data/demo/form-bm01.toml")).unwrap();
        form.columns.clear();
        let mut workbook = Workbook::new();
        let general = workbook.add_worksheet().set_name(GENERAL).unwrap();
        for (i, (k, v)) in [
            ("code", "X"),
            ("name", "Biểu"),
            ("kind", "inputs"),
            ("valid_from", "31/02/2025"),
            ("columns", "this_period, later"),
        ]
        .iter()
        .enumerate()
        {
            general.write_string(i as u32, 0, *k).unwrap();
            general.write_string(i as u32, 1, *v).unwrap();
        }
        workbook.add_worksheet().set_name(ROWS).unwrap();
        let bytes = workbook.save_to_buffer().unwrap();
        let text = read_form("f.xlsx", &bytes).unwrap_err().to_string();
        assert!(
            text.contains("trang tính «Thông tin chung», ô B3: «inputs» không phải giá trị được dùng ở đây"),
            "{text}"
        );
        assert!(text.contains("ô B4: ngày «31/02/2025» không hợp lệ"), "{text}");
        assert!(text.contains("ô B5: «later» không phải giá trị được dùng ở đây"), "{text}");
        assert!(text.contains("trang tính «Quy tắc»: thiếu trang tính này"), "{text}");
    }
}
